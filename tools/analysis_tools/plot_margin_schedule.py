"""Plot the AAM margin and each param group's learning rate of a config.

Builds the config's model (no weights are loaded), optimizer wrapper, param
schedulers and ``MarginScheduleHook`` and steps them as the runner would
(``ParamSchedulerHook`` order), without data or training; a ResNet-50
config takes a few seconds on CPU.

Example::

    python tools/analysis_tools/plot_margin_schedule.py \\
        configs/aam/aam-step_resnet50_2xb8-100e_cub.py --out step.png
"""
import argparse
import copy
import logging
import os
import os.path as osp
import warnings
from types import SimpleNamespace
from typing import Dict, List, Optional

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import ParamSchedulerHook  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import IterBasedTrainLoop  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from projects.fgvc_aam.compat.mmengine import (  # noqa: E402
    RunnerScheduleView, set_loop_epoch, set_loop_iter)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the margin f(e) and the learning rate of every '
        'param group that a config produces, without training.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--out',
        help='output PNG (default: work_dirs/<config>/margin_lr_schedule.png)')
    parser.add_argument(
        '--iters-per-epoch',
        type=int,
        default=20,
        help='iterations per epoch used for iteration-based schedulers / '
        'fractional margins (default 20)')
    parser.add_argument(
        '--total-batch-size',
        type=int,
        help='apply auto_scale_lr as for this total batch size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def find_margin_hook(cfg: Config):
    """The config's MarginScheduleHook (built), or None."""
    from mmpretrain.registry import HOOKS
    for hook_cfg in cfg.get('custom_hooks', None) or []:
        if hook_cfg.get('type') == 'MarginScheduleHook':
            return HOOKS.build(copy.deepcopy(hook_cfg))
    return None


class _ScheduleRunner(RunnerScheduleView):
    """The schedule-related part of mmengine's ``Runner``, run without data.

    It borrows the ``Runner``'s own methods and properties (train loop,
    ``scale_lr``, ``build_param_scheduler``, ``epoch``/``iter``:
    :class:`~projects.fgvc_aam.compat.mmengine.RunnerScheduleView`) on a
    data loader of ``iters_per_epoch`` batches that is never iterated, so
    the default ``end`` of schedulers, ``convert_to_iter_based`` and
    ``auto_scale_lr`` behave as in training.
    """

    def __init__(self, train_cfg: dict, optim_wrapper, iters_per_epoch: int,
                 batch_size: int) -> None:
        super().__init__(
            train_cfg,
            DataLoader(
                _Batches(iters_per_epoch * batch_size),
                batch_size=batch_size))
        self.optim_wrapper = optim_wrapper
        self.param_schedulers = None
        self.world_size = 1
        self.visualizer = SimpleNamespace(dataset_meta=None)
        self.logger = logging.getLogger(__name__)  # quiet: no handler


class _Batches(Dataset):
    """``size`` empty samples (the loader is only measured, never read)."""
    metainfo: Dict = {}

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> int:
        return index


def simulate(cfg: Config,
             iters_per_epoch: int = 20,
             total_batch_size: Optional[int] = None) -> Dict:
    """Epoch axis, margin and per-group lr curves of ``cfg``.

    Returns ``dict(x=[...], margin=[...] or None, lrs={name: [...]},
    max_epochs=int)``, one point per iteration; ``x`` is the epoch progress
    at the start of the iteration (0-based, fractional). The optimizer
    wrapper, schedulers and learning-rate scaling are built by mmengine's
    ``Runner`` methods and stepped by its ``ParamSchedulerHook``; the
    margin is ``MarginScheduleHook.margin_at`` of the hook's own
    ``progress``.
    """
    from mmpretrain.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(copy.deepcopy(cfg.model))  # no init_weights()
    optim_wrapper = build_optim_wrapper(model,
                                        copy.deepcopy(cfg.optim_wrapper))
    groups = optim_wrapper.optimizer.param_groups
    runner = _ScheduleRunner(cfg.train_cfg, optim_wrapper, iters_per_epoch,
                             total_batch_size or 1)
    auto = cfg.get('auto_scale_lr', None)
    if total_batch_size is not None and auto:
        runner.scale_lr(optim_wrapper, dict(auto, enable=True))

    loop = runner.train_loop
    by_epoch_loop = not isinstance(loop, IterBasedTrainLoop)
    max_iters = loop.max_iters
    max_epochs = loop.max_epochs if by_epoch_loop else -(-max_iters //
                                                         iters_per_epoch)
    sched_cfgs = cfg.get('param_scheduler', None) or []
    runner.param_schedulers = runner.build_param_scheduler(
        copy.deepcopy(sched_cfgs))
    stepper = ParamSchedulerHook()

    hook = find_margin_hook(cfg)
    head = cfg.model.get('head', {})
    # `margins` is the deprecated name of the margin heads' `margin`
    constant_margin = head.get('margin', head.get('margins', None))

    names: List[str] = []
    for i, group in enumerate(groups):
        default = 'all params' if len(groups) == 1 else f'group {i}'
        names.append(str(group.get('name', default)))
    x, margin, lrs = [], [], {i: [] for i in range(len(groups))}
    for it in range(max_iters):
        set_loop_iter(loop, it)
        if by_epoch_loop:  # 0-based, as runner.epoch
            set_loop_epoch(loop, it // iters_per_epoch)
        x.append(it / iters_per_epoch)
        for i, group in enumerate(groups):
            lrs[i].append(group['lr'])
        if hook is not None:
            margin.append(hook.margin_at(hook.progress(runner)))
        elif isinstance(constant_margin, (int, float)):
            margin.append(float(constant_margin))
        with warnings.catch_warnings():
            # the optimizer is never stepped: no gradients, nothing to do
            warnings.filterwarnings('ignore', 'Detected call of')
            stepper.after_train_iter(runner, it % iters_per_epoch)
            if by_epoch_loop and (it + 1) % iters_per_epoch == 0:
                stepper.after_train_epoch(runner)

    # one curve per distinct (name, trajectory)
    curves: Dict[str, List[float]] = {}
    for i, name in enumerate(names):
        label, k = name, 2
        while label in curves and curves[label] != lrs[i]:
            label, k = f'{name} ({k})', k + 1
        curves.setdefault(label, lrs[i])
    return dict(
        x=x,
        margin=margin or None,
        lrs=curves,
        max_epochs=max_epochs,
        schedule=None if hook is None else hook.schedule)


def change_points(sim: Dict, iters_per_epoch: int) -> List[str]:
    """Text lines: the (1-based) epochs where the margin or an lr changes.

    Runs of epochs where only the margin changes (linear / exponential
    ramps) are summarised on one line.
    """
    rows = []
    for it in range(0, len(sim['x']), iters_per_epoch):
        margin = None if sim['margin'] is None else sim['margin'][it]
        rows.append((it // iters_per_epoch + 1, margin,
                     tuple(v[it] for v in sim['lrs'].values())))

    def fmt(epoch, margin, lrs, upto=None):
        head = f'epoch {epoch:>4}' if upto is None else \
            f'epochs {epoch}-{upto}'
        parts = [] if margin is None else [f'margin={margin:.4f}']
        if upto is not None:
            parts = [f'margin ramps to {margin:.4f}']
        parts += [f'lr[{k}]={v:.3g}' for k, v in zip(sim['lrs'], lrs)]
        return f'{head}: ' + '  '.join(parts)

    lines, i = [], 0
    while i < len(rows):
        epoch, margin, lrs = rows[i]
        if i and rows[i - 1][1:] == (margin, lrs):
            i += 1
            continue
        j = i
        while (j + 1 < len(rows) and rows[j + 1][2] == lrs
               and rows[j + 1][1] != rows[j][1]):
            j += 1
        if j - i >= 2:  # a ramp: one line for its span
            lines.append(fmt(epoch, rows[j][1], lrs, upto=rows[j][0]))
            i = j + 1
            continue
        lines.append(fmt(epoch, margin, lrs))
        i += 1
    return lines


def plot(sim: Dict, title: str, out: str) -> None:
    rows = 2 if sim['margin'] is not None else 1
    fig, axes = plt.subplots(
        rows, 1, figsize=(8, 3.2 * rows), sharex=True, squeeze=False)
    axes = axes[:, 0]
    if sim['margin'] is not None:
        axes[0].plot(sim['x'], sim['margin'], drawstyle='steps-post',
                     color='tab:red')
        axes[0].set_ylabel('margin m (rad)')
        axes[0].set_title(f'{title}: margin ({sim["schedule"] or "head"})')
        axes[0].grid(alpha=0.3)
    ax = axes[-1]
    for name, values in sim['lrs'].items():
        ax.plot(sim['x'], values, drawstyle='steps-post', label=name)
    ax.set_yscale('log')
    ax.set_ylabel('learning rate')
    ax.set_xlabel('epoch')
    ax.set_xlim(0, sim['max_epochs'])
    ax.legend()
    ax.grid(alpha=0.3, which='both')
    if rows == 1:
        ax.set_title(f'{title}: learning rate per param group')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> str:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)  # imports projects.fgvc_aam
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    stem = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', stem, 'margin_lr_schedule.png')
    sim = simulate(cfg, args.iters_per_epoch, args.total_batch_size)
    for line in change_points(sim, args.iters_per_epoch):
        print(line)
    plot(sim, stem, out)
    print(f'saved {out}')
    return out


if __name__ == '__main__':
    main()

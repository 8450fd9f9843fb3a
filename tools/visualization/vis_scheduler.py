"""MMPretrain's ``vis_scheduler.py`` on our configs (the same flags).

Upstream's tool simulates training with a one-convolution ``SimpleModel``.
Our configs need more of the model than that: ``GroupMultiStepLR`` looks up
the optimizer's ``head`` parameter group (named by
``NamedGroupOptimWrapperConstructor`` from parameter names) and
``MarginScheduleHook`` a head with ``set_margins``.

``-p lr`` (the default) draws the learning rate of EVERY parameter group
(backbone and head) and the margin, with
``tools/analysis_tools/plot_margin_schedule.py``'s simulation and plot
(``iters per epoch = dataset size // (batch size x ngpus)``, as upstream
counts them). ``-p momentum`` / ``-p wd`` run upstream's tool unchanged
except for its model, which gets a ``backbone`` and a ``head`` (with a
no-op ``set_margins``).

    python tools/visualization/vis_scheduler.py CONFIG [--dataset-size N]
        [--ngpus N] [--save-path PNG] [--not-show] [-p lr|momentum|wd]
        [--title T]
"""
import os.path as osp
import sys

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import torch.nn as nn
from mmengine.model import BaseModel

from projects.fgvc_aam.compat.mmpretrain import vis_scheduler_tool


class _MarginHead(nn.Module):
    """A head for ``MarginScheduleHook``: keeps the last margin set."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.margins = None

    def set_margins(self, margins) -> None:
        self.margins = margins


class SimpleModel(BaseModel):
    """Upstream's do-nothing model, with a ``backbone`` and a ``head``."""

    def __init__(self) -> None:
        super().__init__()
        self.data_preprocessor = nn.Identity()
        self.backbone = nn.Conv2d(1, 1, 1)
        self.head = _MarginHead()

    def forward(self, inputs, data_samples=None, mode='tensor'):
        pass

    def train_step(self, data, optim_wrapper):
        pass


# a private copy of upstream's tool that simulates with our model
upstream = vis_scheduler_tool(SimpleModel)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _plot_margin_schedule():
    """``tools/analysis_tools/plot_margin_schedule.py`` as a module."""
    folder = osp.join(ROOT, 'tools', 'analysis_tools')
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import plot_margin_schedule
    return plot_margin_schedule


def plot_lr(args) -> str:
    """Every group's learning rate and the margin, to ``--save-path``
    (default: ``work_dirs/<config>/lr_schedule.png``)."""
    from mmengine.config import Config
    tool = _plot_margin_schedule()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    batch_size = cfg.train_dataloader.batch_size * args.ngpus
    if args.dataset_size is None:
        from mmpretrain.datasets import build_dataset
        dataset_size = len(build_dataset(cfg.train_dataloader.dataset))
    else:
        dataset_size = args.dataset_size
    iters = max(1, dataset_size // batch_size)
    stem = osp.splitext(osp.basename(args.config))[0]
    out = str(args.save_path or osp.join('work_dirs', stem,
                                         'lr_schedule.png'))
    if osp.lexists(out):
        sys.exit(f'vis_scheduler.py: {out!r} exists; choose another '
                 '--save-path (nothing was overwritten)')
    sim = tool.simulate(cfg, iters)
    for line in tool.change_points(sim, iters):
        print(line)
    tool.plot(sim, args.title or stem, out)
    print(f'saved {out} ({iters} iterations per epoch)')
    return out


def main() -> None:
    import projects.fgvc_aam  # noqa: F401  (registers everything)
    args = upstream.parse_args()
    if args.parameter == 'lr':
        plot_lr(args)
    else:
        upstream.main()


if __name__ == '__main__':
    sys.exit(main())

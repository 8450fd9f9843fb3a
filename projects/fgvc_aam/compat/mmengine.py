"""The private / internal names of mmengine we use.

Checked on every 0.10.x release (0.10.0 to 0.10.7): the wrapped code, and
every function of mmengine that mentions the name, is the same in each
(``tools/misc/compare_private_names.py`` compares them), except for changes
that do not touch what we use (the train loops' validation condition in
0.10.0-0.10.3, the log processor's memory line in 0.10.0-0.10.2, a
strategy's call of ``_load_checkpoint_to_model`` in 0.10.0-0.10.1).
"""
import copy
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.hooks import CheckpointHook
from mmengine.optim.scheduler import MultiStepParamScheduler
from mmengine.optim.scheduler.param_scheduler import INF
from mmengine.runner import Runner

from .guard import declare, private, private_class

#: The mmengine releases these names were checked on.
CHECKED = '>=0.10.0,<=0.10.7'

# ------------------------------------------------------ checkpoint hook


@private_class(
    declare(
        'mmengine', 'mmengine.hooks.checkpoint_hook.CheckpointHook.'
        'file_backend', CHECKED, 'the two saves delete old checkpoints '
        'through self.file_backend.remove / rmtree, write through '
        'runner.save_checkpoint(out_dir, filename, ...) and the best save '
        'calls _save_checkpoint_with_step; AtomicCheckpointHook defers '
        'the deletions and renames the written file'))
class SaveWrappingCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose saves run through
    :meth:`wrap_save`.

    Upstream saves a checkpoint in ``_save_checkpoint_with_step`` (epoch /
    iter checkpoints) and ``_save_best_checkpoint`` (best ones), deleting
    the checkpoints that ``max_keep_ckpts`` / the new best replace through
    ``self.file_backend`` and writing through ``runner.save_checkpoint``.
    This class overrides those two private methods (and nothing else) so
    that a subclass can wrap a save, e.g. ``AtomicCheckpointHook``'s
    write-then-rename.
    """

    def wrap_save(self, runner, save: Callable, *args) -> None:
        """Run ``save(runner, *args)``, one of upstream's two saves.

        Override it to change how a save writes and deletes (the default
        just saves); ``save`` may be called with a stand-in of ``runner``.
        """
        save(runner, *args)

    @private(
        'mmengine', 'mmengine.hooks.checkpoint_hook.CheckpointHook.'
        '_save_checkpoint_with_step', CHECKED,
        'the epoch / iter save (with its max_keep_ckpts deletions), '
        'wrapped by wrap_save')
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        self.wrap_save(runner, super()._save_checkpoint_with_step, step,
                       meta)

    @private(
        'mmengine', 'mmengine.hooks.checkpoint_hook.CheckpointHook.'
        '_save_best_checkpoint', CHECKED,
        'the best-checkpoint save (with the deletion of the previous '
        'best), wrapped by wrap_save')
    def _save_best_checkpoint(self, runner, metrics) -> None:
        self.wrap_save(runner, super()._save_best_checkpoint, metrics)


# ----------------------------------------------------- param schedulers


@private_class()
class ValueRuleMultiStepParamScheduler(MultiStepParamScheduler):
    """mmengine's ``MultiStepParamScheduler`` whose values come from
    :meth:`scheduled_values`.

    Every mmengine scheduler's ``step()`` sets each parameter group's value
    to what its private ``_get_value()`` returns (the method a new
    scheduler implements); a subclass implements the public
    :meth:`scheduled_values` instead.
    """

    def scheduled_values(self) -> List[float]:
        """The value of each optimizer parameter group at ``last_step``."""
        raise NotImplementedError

    @private(
        'mmengine', 'mmengine.optim.scheduler.param_scheduler.'
        '_ParamScheduler._get_value', CHECKED,
        "step() sets each group's value to _get_value()[i]; "
        'GroupMultiStepLR decays each group at its own milestones')
    def _get_value(self) -> List[float]:
        return self.scheduled_values()


def _multistep_iter_from_epoch(factory: Callable,
                               *args,
                               milestones: List[int],
                               begin: int = 0,
                               end: int = INF,
                               by_epoch: bool = True,
                               epoch_length: Optional[int] = None,
                               **kwargs):
    """mmengine 0.10's epoch -> iteration conversion, written out."""
    if not by_epoch:
        raise ValueError('Only epoch-based kwargs whose `by_epoch=True` can '
                         'be converted to iter-based.')
    if epoch_length is None or epoch_length <= 0:
        raise ValueError('`epoch_length` must be a positive integer, but '
                         f'got {epoch_length}.')
    return factory(
        *args,
        milestones=[m * epoch_length for m in milestones],
        begin=int(begin * epoch_length),
        end=end if end == INF else int(end * epoch_length),
        by_epoch=False,
        **kwargs)


@private(
    'mmengine', 'mmengine.optim.scheduler.param_scheduler.'
    'MultiStepParamScheduler.build_iter_from_epoch.__func__', CHECKED,
    'the classmethod that converts epoch milestones to iterations, run '
    'with a factory that regroups per-group milestones in place of the '
    'class', fallback=_multistep_iter_from_epoch,
    fallback_text='the same conversion written out (milestones, begin, '
    'end times epoch_length; by_epoch=False)')
def multistep_iter_from_epoch(factory: Callable, *args, **kwargs):
    """``MultiStepParamScheduler.build_iter_from_epoch`` (epoch milestones,
    ``begin``, ``end`` times ``epoch_length``, ``by_epoch=False``), which
    then calls ``factory(*args, milestones=..., ...)`` instead of the
    class."""
    function = MultiStepParamScheduler.build_iter_from_epoch.__func__
    return function(factory, *args, **kwargs)


# --------------------------------------------------------------- runner

_SCHEDULE_RUNNER_WHY = (
    "RunnerScheduleView borrows Runner's train-loop and param-scheduler "
    'methods; they read it')


@private_class(
    declare('mmengine', 'mmengine.runner.runner.Runner._train_loop',
            CHECKED, 'the train loop config (built on first access by '
            f'the train_loop property); {_SCHEDULE_RUNNER_WHY}'),
    declare('mmengine', 'mmengine.runner.runner.Runner._train_dataloader',
            CHECKED, 'the data loader build_train_loop passes to the loop; '
            f'{_SCHEDULE_RUNNER_WHY}'),
    declare('mmengine', 'mmengine.runner.runner.Runner.'
            '_build_param_scheduler', CHECKED, 'what build_param_scheduler '
            f'calls for each optimizer; {_SCHEDULE_RUNNER_WHY}'))
class RunnerScheduleView:
    """The schedule-related part of mmengine's ``Runner``, without data.

    It borrows the ``Runner``'s own methods and properties (train loop,
    ``scale_lr``, ``build_param_scheduler``, ``epoch`` / ``iter``) on a
    train loop config and a data loader that is only measured, so that the
    default ``end`` of schedulers, ``convert_to_iter_based`` and
    ``auto_scale_lr`` behave as in training. Those methods read the
    Runner's private ``_train_loop`` / ``_train_dataloader`` and call its
    private ``_build_param_scheduler``.
    """
    build_train_loop = Runner.build_train_loop
    scale_lr = Runner.scale_lr
    build_param_scheduler = Runner.build_param_scheduler
    _build_param_scheduler = Runner._build_param_scheduler
    train_loop = Runner.train_loop
    train_dataloader = Runner.train_dataloader
    max_epochs = Runner.max_epochs
    max_iters = Runner.max_iters
    epoch = Runner.epoch
    iter = Runner.iter

    def __init__(self, train_cfg: dict, train_dataloader) -> None:
        self._train_loop = copy.deepcopy(train_cfg)
        self._train_dataloader = train_dataloader


@private('mmengine', 'mmengine.runner.loops.EpochBasedTrainLoop._iter',
         CHECKED, "the train loop's iteration counter, which its iter "
         'property reads (IterBasedTrainLoop: the same); there is no '
         'setter: the margin plot steps the schedule without training')
def set_loop_iter(loop, iteration: int) -> None:
    """Set a train loop's iteration counter (``loop.iter``)."""
    loop._iter = iteration


@private('mmengine', 'mmengine.runner.loops.EpochBasedTrainLoop._epoch',
         CHECKED, "the train loop's epoch counter, which its epoch "
         'property reads; there is no setter')
def set_loop_epoch(loop, epoch: int) -> None:
    """Set a train loop's epoch counter (``loop.epoch``, 0-based)."""
    loop._epoch = epoch


def _cfg_load_from(runner) -> Optional[str]:
    cfg = getattr(runner, 'cfg', None)
    return cfg.get('load_from') if cfg is not None else None


@private('mmengine', 'mmengine.runner.runner.Runner._load_from', CHECKED,
         'the checkpoint path the runner loads (load_from / --resume), '
         'named in our messages', fallback=_cfg_load_from,
         fallback_text="the config's load_from (only named in messages)")
def runner_load_from(runner) -> Optional[str]:
    """The checkpoint path ``runner`` was built to load (``load_from``)."""
    return getattr(runner, '_load_from', None)


# ----------------------------------------------------------- checkpoints


@private('mmengine', 'mmengine.runner.checkpoint.CheckpointLoader.'
         '_get_checkpoint_loader', CHECKED, 'the loader registered for a '
         "path's scheme, wrapped to explain failed downloads")
def checkpoint_loader_for(path: str) -> Callable:
    """The loader ``CheckpointLoader`` uses for ``path`` (by its scheme
    prefix; the local loader when none matches)."""
    from mmengine.runner import CheckpointLoader
    return CheckpointLoader._get_checkpoint_loader(path)


def _load_checkpoint_to_model(model: torch.nn.Module,
                              checkpoint: Dict[str, Any],
                              strict: bool = False,
                              logger=None,
                              revise_keys=((r'^module\.', ''), )) -> Dict:
    """mmengine 0.10's ``_load_checkpoint_to_model``, written out."""
    from mmengine.runner.checkpoint import load_state_dict
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    state_dict._metadata = metadata
    load_state_dict(model, state_dict, strict, logger)
    return checkpoint


@private('mmengine', 'mmengine.runner.checkpoint._load_checkpoint_to_model',
         CHECKED, "load_checkpoint's second half: a loaded checkpoint's "
         "state_dict (keys' module. prefix removed) into the model",
         fallback=_load_checkpoint_to_model,
         fallback_text='the same steps written out with the public '
         'load_state_dict')
def load_checkpoint_to_model(model: torch.nn.Module,
                             checkpoint: Dict[str, Any],
                             strict: bool = False) -> Dict:
    """Load ``checkpoint['state_dict']`` (or ``checkpoint``) into
    ``model``, a ``module.`` key prefix removed; returns ``checkpoint``."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    return _load_checkpoint_to_model(model, checkpoint, strict=strict)


# ------------------------------------------------------- distributed


def _no_set_device(device) -> None:
    """``torch.cuda.set_device`` on a machine without CUDA: nothing."""


@private('mmengine', 'mmengine.dist.utils._init_dist_slurm', CHECKED,
         "mmengine's Slurm process-group set-up (MASTER_ADDR from "
         'scontrol, RANK / WORLD_SIZE from SLURM_*), run on gloo without '
         'CUDA')
def init_dist_slurm_without_cuda(backend: str,
                                 port: Optional[int] = None,
                                 **kwargs) -> None:
    """mmengine's Slurm initialisation with its ``torch.cuda.set_device``
    call made a no-op (there is no CUDA device to select)."""
    from unittest import mock

    from mmengine.dist import utils
    with mock.patch.object(torch.cuda, 'set_device', _no_set_device):
        utils._init_dist_slurm(backend, port=port, **kwargs)


@private('mmengine', 'mmengine.dist.utils._init_dist_mpi', CHECKED,
         "mmengine's MPI process-group set-up (from OMPI_COMM_WORLD_*), "
         'run on gloo without CUDA')
def init_dist_mpi_without_cuda(backend: str, **kwargs) -> None:
    """mmengine's MPI initialisation with its ``torch.cuda.set_device``
    call made a no-op."""
    from unittest import mock

    from mmengine.dist import utils
    with mock.patch.object(torch.cuda, 'set_device', _no_set_device):
        utils._init_dist_mpi(backend, **kwargs)

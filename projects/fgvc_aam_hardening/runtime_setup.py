"""What ``tools/train.py`` and ``tools/test.py`` do on top of MMPretrain's.

Our tools reuse MMPretrain's own argument parsing and config merging (the
``tools/`` that ship inside the ``mmpretrain`` package under ``.mim``), so
they take exactly the same flags, and add what this stack needs:

- the run-time fixes of :mod:`.runtime_fixes`: the safe checkpoint loader,
  CPU data-parallel runs tied to their ``torchrun`` launcher, and
  ``persistent_workers`` off where there are no workers;
- a fresh (not resumed) run in a work dir that already holds checkpoints
  would silently overwrite them (``epoch_1.pth`` ...): we refuse instead;
- one training run per work dir (:mod:`.work_dir_lock`), taken before
  anything is written, by the main rank only (read from the launcher's
  own variable: :func:`main_rank_from_launcher_env`);
- ``--resume`` without a path continues from the newest intact checkpoint
  (:mod:`.resume`), and a checkpoint named explicitly (``--resume CKPT``,
  ``tools/test.py CKPT``) that is truncated is refused, naming it;
- a checkpoint whose tensors do not fit the model is refused
  (``CheckpointFitHook``: in ``default_runtime.py``'s ``default_hooks``,
  and added to a run that has none) unless
  ``allow_partial_checkpoint=True``;
- unknown keys in ``paramwise_cfg.custom_keys`` entries and in hook
  configs are refused (:mod:`.config_checks`);
- the class count comes from the data set: head, data preprocessor and
  ``Accuracy`` top-k are set from it (:mod:`.class_count`);
- a failed weight download names the URL, mmengine's cache file and the
  ``--cfg-options`` key to point at a local copy (:mod:`.offline_weights`).
"""
import glob
import logging
import os
import os.path as osp
from types import ModuleType

from mmengine.config import Config
from mmengine.logging import print_log

from projects.fgvc_aam.engine.checkpoint_fit import PARTIAL_LOAD_OPTION
from projects.fgvc_aam.utils.no_follow import refuse_any_link

from .class_count import fill_num_classes
from .config_checks import check_config
from .offline_weights import explain_failed_downloads
from .resume import checkpoint_problem, find_resume_checkpoint
from .runtime_fixes import (allow_mmengine_checkpoints,
                            disable_persistent_workers_without_workers,
                            end_with_launcher, setup_cpu_distributed)
from .work_dir_lock import lock_work_dir


def load_mmpretrain_tool(name: str) -> ModuleType:
    """Import ``mmpretrain/.mim/tools/{name}.py`` (e.g. ``'train'``): a
    private copy (:func:`projects.fgvc_aam.compat.mmpretrain.load_tool`)."""
    from projects.fgvc_aam.compat.mmpretrain import load_tool
    return load_tool(name)


def _checkpoint_names(work_dir: str) -> str:
    """The first five ``*.pth`` of ``work_dir``, comma-separated ('' if
    none): what a fresh run into it would overwrite."""
    existing = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    return ', '.join(osp.basename(p) for p in existing[:5])


def refuse_to_overwrite_checkpoints(cfg: Config) -> None:
    """Raise if a fresh training run would overwrite existing checkpoints."""
    work_dir = cfg.get('work_dir')
    if not work_dir or cfg.get('resume', False):
        return
    names = _checkpoint_names(work_dir)
    if names:
        raise FileExistsError(
            f'work dir {work_dir!r} already holds checkpoints ({names}); a '
            'new run would overwrite them. Pass --resume to continue that '
            'run, or choose another --work-dir.')


def _is_local_path(path: str) -> bool:
    return '://' not in str(path)


def check_named_checkpoint(cfg: Config) -> None:
    """Raise if ``cfg.load_from`` is a local file that is not a complete
    checkpoint (e.g. truncated by a killed save), naming it."""
    path = cfg.get('load_from')
    if path and _is_local_path(path):
        problem = checkpoint_problem(path)
        if problem is not None:
            raise FileNotFoundError(
                f'checkpoint {path!r} {problem}; nothing was loaded.')


def resolve_resume(cfg: Config) -> None:
    """``--resume`` without a path: set ``cfg.load_from`` to the newest
    intact checkpoint of the work dir (see :func:`find_resume_checkpoint`);
    refuse if the work dir holds checkpoints but none is intact (a fresh
    run would overwrite them); start fresh if it holds none."""
    work_dir = cfg.get('work_dir')
    if not (cfg.get('resume', False) and cfg.get('load_from') is None
            and work_dir):
        return
    found = find_resume_checkpoint(work_dir)
    if found is not None:
        cfg.load_from = found
        return
    names = _checkpoint_names(work_dir)
    if names:
        raise FileNotFoundError(
            f'--resume: work dir {work_dir!r} holds checkpoints ({names}) but '
            'none is an intact epoch_N.pth / iter_N.pth to resume from (see '
            'the messages above); a fresh run would overwrite them. Pass '
            '--resume CKPT, or choose another --work-dir.')
    print_log(f'--resume: no checkpoint in {work_dir}; starting a fresh run.',
              logger='current', level=logging.WARNING)
    cfg.resume = False


def _is_fit_hook(hook) -> bool:
    return (isinstance(hook, dict) and hook.get('type') in (
        'CheckpointFitHook', 'mmpretrain.CheckpointFitHook')
            or type(hook).__name__ == 'CheckpointFitHook')


def add_checkpoint_fit_hook(cfg: Config) -> None:
    """Make sure the run has a ``CheckpointFitHook``, honouring
    ``cfg.allow_partial_checkpoint``.

    Configs that inherit ``configs/_base_/default_runtime.py`` have one in
    ``default_hooks`` (so MMPretrain's own tools check too); the option
    sets its ``allow_partial`` unless the config sets it. A config without
    one (or with it switched off, ``None``) gets one in ``custom_hooks``.
    """
    allow = cfg.get(PARTIAL_LOAD_OPTION, False)
    if not isinstance(allow, bool):
        raise TypeError(f'{PARTIAL_LOAD_OPTION} must be True or False, got '
                        f'{allow!r}')
    found = False
    default_hooks = cfg.get('default_hooks') or {}
    for hook in list(default_hooks.values()) + list(
            cfg.get('custom_hooks') or []):
        if _is_fit_hook(hook):
            found = True
            if isinstance(hook, dict):
                hook.setdefault('allow_partial', allow)
    if not found:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='CheckpointFitHook', allow_partial=allow)
        ]


# The variable each launcher sets for a process's global rank before any
# process group exists (mmengine's ``init_dist`` copies it to ``RANK``
# only later, inside the runner).
LAUNCHER_RANK_VARIABLES = dict(
    pytorch='RANK', slurm='SLURM_PROCID', mpi='OMPI_COMM_WORLD_RANK')


def main_rank_from_launcher_env(launcher: str = 'none') -> bool:
    """Whether this process is the main one (global rank 0) of its
    ``launcher`` (``'none'``, ``'pytorch'``, ``'slurm'``, ``'mpi'``), read
    from that launcher's own variable (:data:`LAUNCHER_RANK_VARIABLES`).

    Raises:
        ValueError: an unknown launcher, or its rank variable is unset or
            not a number (e.g. ``--launcher slurm`` outside ``srun``).
    """
    if launcher in (None, 'none'):
        return True
    name = LAUNCHER_RANK_VARIABLES.get(launcher)
    if name is None:
        known = ', '.join(map(repr, ['none', *LAUNCHER_RANK_VARIABLES]))
        raise ValueError(
            f'unknown launcher {launcher!r}; expected one of {known}')
    value = os.environ.get(name, '')
    if not value.strip().isdigit():
        raise ValueError(
            f'--launcher {launcher}: the environment variable {name} is '
            f'{value!r}, not a rank; start the tool with its launcher '
            '(tools/dist_train.sh, tools/slurm_train.sh, mpirun).')
    return int(value) == 0


def refuse_links_mmengine_writes_to(cfg: Config) -> None:
    """mmengine's runner dumps the config to ``WORK_DIR/<config file
    name>`` with a plain ``open(..., 'w')``, which follows a link planted
    there (``last_checkpoint`` is checked by our checkpoint hook, logs go
    to a new timestamped folder): refuse such a link before training."""
    if cfg.get('work_dir') and cfg.filename:
        refuse_any_link(osp.join(cfg.work_dir, osp.basename(cfg.filename)))


def prepare_runtime(cfg: Config, training: bool = True) -> Config:
    """Apply every fix above to a merged config, in place; returns it."""
    if 'TORCHELASTIC_RUN_ID' in os.environ:  # a rank started by torchrun
        end_with_launcher()
    allow_mmengine_checkpoints()
    explain_failed_downloads(cfg)  # offline: say where the weights go
    check_config(cfg)  # before anything is written
    fill_num_classes(cfg, training)  # head, preprocessor, top-k: the data's
    if training:
        # read-only first: a refused run writes nothing
        refuse_to_overwrite_checkpoints(cfg)
        if cfg.get('work_dir') and main_rank_from_launcher_env(
                cfg.get('launcher', 'none')):
            lock_work_dir(cfg.work_dir)
            refuse_links_mmengine_writes_to(cfg)
            # again under the lock: a run that finished meanwhile counts
            refuse_to_overwrite_checkpoints(cfg)
        resolve_resume(cfg)
    check_named_checkpoint(cfg)
    add_checkpoint_fit_hook(cfg)
    disable_persistent_workers_without_workers(cfg)
    setup_cpu_distributed(cfg)
    return cfg

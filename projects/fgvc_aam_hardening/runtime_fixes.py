"""The run-time fixes our tools switch on for mmengine 0.10.7 / torch 2.14.

Nothing here runs on import: each tool calls what it needs, and
:func:`projects.fgvc_aam_hardening.runtime_setup.prepare_runtime` calls all
of it for
``tools/train.py`` and ``tools/test.py``.

- **Safe checkpoint loading** (:func:`allow_mmengine_checkpoints`).
  mmengine calls ``torch.load(filename, map_location=...)``; since torch
  2.6 that means ``weights_only=True``, which refuses the message hub's
  ``HistoryBuffer`` and numpy pieces a plain mmengine checkpoint pickles.
  Our own checkpoints need none of it (``PlainCheckpointHook`` stores
  plain types); we make mmengine read local checkpoints through
  :func:`projects.fgvc_aam.engine.checkpoint_loading.load_checkpoint_file`,
  which checks the zip CRCs and loads with torch's own allow-list only
  (nothing added: a plain mmengine checkpoint is refused, saying what to
  do).
- **Data-parallel training without CUDA** (:func:`setup_cpu_distributed`).
  mmengine's ``pytorch``, ``slurm`` and ``mpi`` launchers call
  ``torch.cuda.set_device`` and its runner wraps the model in DDP with
  ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine. The runner
  skips its own ``init_dist`` when a process group already exists, so we
  initialise one with the ``gloo`` backend first (for Slurm and MPI through
  mmengine's own initialisation, which sets MASTER_ADDR/PORT, RANK and
  WORLD_SIZE from the launcher's variables), with the configured
  ``env_cfg.dist_cfg.timeout`` (as mmengine's ``init_dist`` does for
  NCCL), and ask for
  ``MMDistributedDataParallel`` with ``device_ids=None``. Every rank
  started by ``torchrun`` is tied to its launcher
  (:func:`end_with_launcher`).
- **Clean exit of a gloo run** (:func:`finish_data_parallel_run`).
- **``persistent_workers`` without workers**
  (:func:`disable_persistent_workers_without_workers`): MMPretrain's
  ``merge_args`` forces ``persistent_workers=True``, which PyTorch's
  DataLoader refuses with ``num_workers=0``.
"""
import ctypes
import datetime
import logging
import os
import signal
import sys
from typing import Callable, List

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# launchers whose ranks train on the CPU (gloo) when CUDA is unavailable
CPU_LAUNCHERS = ('pytorch', 'slurm', 'mpi')


def end_with_launcher() -> bool:
    """Linux: have the kernel send this process SIGTERM when its parent
    (the ``torchrun`` launcher) dies; returns whether it was set.

    Without it, ranks of a SIGKILL-ed ``torchrun`` keep training (and
    writing checkpoints) as orphans.
    """
    if not sys.platform.startswith('linux'):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # the launcher died before prctl
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def dist_timeout(cfg: Config):
    """``env_cfg.dist_cfg.timeout`` (seconds) as a ``timedelta``, or
    ``None`` when unset; a bad value raises naming the field."""
    timeout = ((cfg.get('env_cfg') or {}).get('dist_cfg') or {}).get(
        'timeout')
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(
            timeout, (int, float)) or timeout <= 0:
        raise ValueError('env_cfg.dist_cfg.timeout must be a positive number '
                         f'of seconds, got {timeout!r}')
    return datetime.timedelta(seconds=timeout)


def slurm_job_port(default: int = 29500) -> int:
    """A master port for a Slurm job: ``default`` plus the job id modulo
    1000 (``SLURM_JOB_ID``), so that jobs sharing a node do not collide on
    mmengine's fixed default; ``default`` outside a job."""
    job = os.environ.get('SLURM_JOB_ID', '')
    return default + int(job) % 1000 if job.isdigit() else default


def _init_gloo_group(launcher: str, cfg: Config, **kwargs) -> None:
    """Initialise the default process group on gloo for ``launcher``.

    ``pytorch``: torchrun exports MASTER_ADDR/PORT, RANK and WORLD_SIZE
    (env://). ``slurm`` and ``mpi``: mmengine's own initialisation, which
    derives those variables from the launcher's (``SLURM_PROCID``,
    ``SLURM_NTASKS``, ``SLURM_NODELIST`` via ``scontrol``;
    ``OMPI_COMM_WORLD_*``), with its ``torch.cuda.set_device`` call made a
    no-op: there is no CUDA device to select.
    """
    if launcher == 'pytorch':
        dist.init_process_group(backend='gloo', **kwargs)
        return
    from projects.fgvc_aam.compat.mmengine import (
        init_dist_mpi_without_cuda, init_dist_slurm_without_cuda)
    if launcher == 'slurm':
        port = ((cfg.get('env_cfg') or {}).get('dist_cfg') or {}).get('port')
        if port is None and 'MASTER_PORT' not in os.environ:
            port = slurm_job_port()
        init_dist_slurm_without_cuda('gloo', port=port, **kwargs)
    else:
        init_dist_mpi_without_cuda('gloo', **kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` (in place) for a CPU data-parallel run.

    Does nothing unless ``cfg.launcher`` is one of :data:`CPU_LAUNCHERS`
    (``torchrun``, ``srun``, ``mpirun``) and CUDA is unavailable. Returns
    whether the CPU path was taken.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher not in CPU_LAUNCHERS or torch.cuda.is_available():
        return False
    timeout = dist_timeout(cfg)
    if not dist.is_initialized():
        kwargs = {} if timeout is None else dict(timeout=timeout)
        _init_gloo_group(launcher, cfg, **kwargs)
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    env_cfg = cfg.get('env_cfg') or ConfigDict()
    env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    cfg.env_cfg = env_cfg
    return True


def teardown_distributed() -> bool:
    """Wait for every rank, then destroy the default process group.

    Without it, a CPU (gloo) run's processes exit with the group alive and
    gloo's threads are torn down by the interpreter's exit, which sometimes
    aborts a rank after training has finished ("terminate called without an
    active exception", exit -6). Returns whether a group was destroyed.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return False
    dist.barrier()
    dist.destroy_process_group()
    return True


#: Called by :func:`exit_skipping_finalizers` first (``os._exit`` skips
#: ``atexit``); e.g. the work-dir lock's release.
_BEFORE_HARD_EXIT: List[Callable[[], None]] = []


def run_before_hard_exit(func: Callable[[], None]) -> None:
    """Have :func:`exit_skipping_finalizers` call ``func`` (once) before
    it ends the process."""
    if func not in _BEFORE_HARD_EXIT:
        _BEFORE_HARD_EXIT.append(func)


def exit_skipping_finalizers(code: int = 0) -> None:
    """Flush logs and standard streams, then end the process at once.

    Used after :func:`teardown_distributed` in a data-parallel run: with
    torch 2.14 a rank of a CPU (gloo) run sometimes aborts in the C++ static
    destructors at interpreter exit ("terminate called without an active
    exception", no Python frame, exit -6, every file already written),
    which turns a finished run into a failed torchrun. Measured on a
    2-process tiny two-branch training: 3 aborts in 36 runs as the tools
    were, 1 in 48 with the process group destroyed, 0 in 36 with this
    exit. Nothing is left to finalize at that point, so the process skips
    the interpreter's teardown.
    """
    for func in list(_BEFORE_HARD_EXIT):  # os._exit skips atexit
        func()
    logging.shutdown()  # flushes and closes every logging handler
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def finish_data_parallel_run(runner) -> None:
    """End a tool's process after a data-parallel run; no-op otherwise.

    Destroys the process group (:func:`teardown_distributed`), closes the
    runner's visualizer (e.g. TensorBoard's pending events), then exits with
    :func:`exit_skipping_finalizers`.
    """
    if teardown_distributed():
        runner.visualizer.close()
        exit_skipping_finalizers(0)


def allow_mmengine_checkpoints() -> None:
    """Read local checkpoints through our safe loader
    (``use_safe_checkpoint_loader``: ``weights_only`` with torch's own
    allow-list only, zip CRCs checked). Idempotent."""
    from projects.fgvc_aam.engine.checkpoint_loading import \
        use_safe_checkpoint_loader
    use_safe_checkpoint_loader()


DATALOADER_FIELDS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def disable_persistent_workers_without_workers(cfg: Config) -> None:
    """Set ``persistent_workers=False`` on dataloaders with no workers."""
    for field in DATALOADER_FIELDS:
        loader = cfg.get(field)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False

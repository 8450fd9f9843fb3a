from . import hooks, optimizers, schedulers  # noqa: F401
from .checkpoint_compat import allow_mmengine_checkpoints
from .checkpoint_fit import (CheckpointMismatchError, check_checkpoint_fits,
                             load_fitting_checkpoint)
from .distributed import (exit_skipping_finalizers, finish_data_parallel_run,
                          setup_cpu_distributed, teardown_distributed)
from .resume import checkpoint_problem, find_resume_checkpoint
from .runtime_setup import load_mmpretrain_tool, prepare_runtime
from .work_dir_lock import (WorkDirBusyError, lock_work_dir,
                            release_work_dir_locks)

__all__ = [
    'allow_mmengine_checkpoints', 'setup_cpu_distributed',
    'teardown_distributed', 'exit_skipping_finalizers',
    'finish_data_parallel_run',
    'load_mmpretrain_tool', 'prepare_runtime', 'checkpoint_problem',
    'find_resume_checkpoint', 'WorkDirBusyError', 'lock_work_dir',
    'release_work_dir_locks', 'CheckpointMismatchError',
    'check_checkpoint_fits', 'load_fitting_checkpoint'
]

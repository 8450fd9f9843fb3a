from . import hooks, optimizers, schedulers  # noqa: F401
from .checkpoint_compat import allow_mmengine_checkpoints
from .distributed import setup_cpu_distributed
from .runtime_setup import load_mmpretrain_tool, prepare_runtime

__all__ = [
    'allow_mmengine_checkpoints', 'setup_cpu_distributed',
    'load_mmpretrain_tool', 'prepare_runtime'
]

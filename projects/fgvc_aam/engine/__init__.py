from . import hooks, optimizers, schedulers  # noqa: F401
from .checkpoint_fit import (CheckpointMismatchError, check_checkpoint_fits,
                             load_fitting_checkpoint)

__all__ = [
    'CheckpointMismatchError', 'check_checkpoint_fits',
    'load_fitting_checkpoint'
]

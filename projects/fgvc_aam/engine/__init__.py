from . import hooks, optimizers, schedulers  # noqa: F401
from .checkpoint_loading import (CheckpointRefusedError, checkpoint_damage,
                                 load_checkpoint_file)
from .checkpoint_fit import (CheckpointMismatchError, check_checkpoint_fits,
                             load_fitting_checkpoint)

__all__ = [
    'CheckpointRefusedError', 'checkpoint_damage', 'load_checkpoint_file',
    'CheckpointMismatchError', 'check_checkpoint_fits',
    'load_fitting_checkpoint'
]

"""Generic safety hooks (registered in MMPretrain's ``HOOKS``)."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_fit_hook import CheckpointFitHook
from .dataset_consistency_hook import DatasetConsistencyHook
from .epoch_seed_hook import EpochSeedHook
from .non_finite_loss_hook import NonFiniteLossHook
from .plain_checkpoint_hook import PlainCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointFitHook', 'DatasetConsistencyHook',
    'EpochSeedHook', 'NonFiniteLossHook', 'PlainCheckpointHook'
]

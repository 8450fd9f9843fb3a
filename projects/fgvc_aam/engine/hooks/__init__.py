from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_fit_hook import CheckpointFitHook
from .dataset_consistency_hook import DatasetConsistencyHook
from .epoch_seed_hook import EpochSeedHook
from .margin_schedule_hook import MarginScheduleHook
from .margin_schedules import (MARGIN_SCHEDULES, exponential_margin,
                               linear_margin, margin_at, step_margin)
from .non_finite_loss_hook import NonFiniteLossHook
from .plain_checkpoint_hook import PlainCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointFitHook', 'DatasetConsistencyHook',
    'EpochSeedHook', 'MARGIN_SCHEDULES', 'MarginScheduleHook',
    'NonFiniteLossHook', 'PlainCheckpointHook', 'exponential_margin',
    'linear_margin', 'margin_at', 'step_margin'
]

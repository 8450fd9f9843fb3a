from .margin_schedule_hook import MarginScheduleHook
from .margin_schedules import (MARGIN_SCHEDULES, exponential_margin,
                               linear_margin, margin_at, step_margin)

__all__ = [
    'MARGIN_SCHEDULES', 'MarginScheduleHook', 'exponential_margin',
    'linear_margin', 'margin_at', 'step_margin'
]

"""Margin functions ``f(e)`` of the Adaptive Angular Margin loss (eqs. 52-54).

Pure functions of the epoch, usable without a runner (tests, plots).

Epoch convention: ``e`` is the 1-based number of the epoch being trained
("epoch e" of the thesis): the first epoch is ``e = 1`` and a 100-epoch run
ends with ``e = 100``. A milestone ``k`` therefore means "after ``k``
completed epochs", exactly as a ``MultiStepLR`` milestone ``k``: with the
step schedule of eq. 56 (``k1 = 30, k2 = 60``) epochs 1-30 use no margin,
epochs 31-60 use ``m1`` and epochs 61-100 use ``m2``. Fractional ``e`` (the
hook's ``by_iter`` mode) is the training progress in epochs *including* the
current iteration, so the value reached at the last iteration of epoch
``e`` is the per-epoch value ``f(e)``, and the step schedule switches at the
same iterations in both modes.

The OCR of eqs. 53 and 54 is partly garbled; the forms below are the best
reading recorded in ``spec/method.md`` section 2 (linear and exponential
reach ``m1`` at ``e = k2`` and jump to ``m2`` after it).
"""
import math
from typing import Callable, Dict, Optional

from ...utils.checks import check_choice, check_float


def step_margin(e: float, m1: float, m2: float, k1: float,
                k2: float) -> float:
    """Eq. 52: 0 for e <= k1; m1 for k1 < e <= k2; m2 for e > k2."""
    if e <= k1:
        return 0.0
    if e <= k2:
        return float(m1)
    return float(m2)


def linear_margin(e: float, m1: float, m2: float, k1: float,
                  k2: float) -> float:
    """Eq. 53: 0 for e <= k1; m1 (e - k1) / (k2 - k1) up to k2; m2 after."""
    if e <= k1:
        return 0.0
    if e <= k2:
        return float(m1) * (e - k1) / (k2 - k1)
    return float(m2)


def exponential_margin(e: float, m1: float, m2: float, k1: float,
                       k2: float) -> float:
    """Eq. 54: 0 for e <= k1; m1 exp((e - k1) / (k2 - k1) - 1) up to k2;
    m2 after."""
    if e <= k1:
        return 0.0
    if e <= k2:
        return float(m1) * math.exp((e - k1) / (k2 - k1) - 1.0)
    return float(m2)


#: schedule name -> f(e, m1, m2, k1, k2)
MARGIN_SCHEDULES: Dict[str, Callable[..., float]] = dict(
    step=step_margin,
    linear=linear_margin,
    exponential=exponential_margin,
)

#: every name accepted by ``schedule`` (``constant`` is ArcFace: f(e) = m)
SCHEDULE_NAMES = ('constant', ) + tuple(MARGIN_SCHEDULES)


def validate_margin_schedule(schedule: str,
                             m1: float,
                             m2: float,
                             k1: float,
                             k2: float,
                             margin: Optional[float] = None,
                             owner: str = 'MarginScheduleHook') -> None:
    """Raise naming the first invalid argument: ``TypeError`` for a wrong
    type, ``ValueError`` for a wrong value."""
    check_choice('schedule', schedule, SCHEDULE_NAMES, owner)

    def check_margin(name: str, value) -> None:
        # a margin in [0, pi) radians
        check_float(name, value, 0.0, math.pi, strict_max=True, owner=owner)

    if schedule == 'constant':
        if margin is None:
            raise ValueError(f"{owner}: schedule='constant' needs "
                             '`margin` (the constant m), got None')
        check_margin('margin', margin)
        return
    if margin is not None:
        raise ValueError(f'{owner}: `margin` is only used by '
                         f"schedule='constant'; got margin={margin!r} with "
                         f'schedule={schedule!r} (use m1 / m2)')
    check_margin('m1', m1)
    check_margin('m2', m2)
    for name, value in (('k1', k1), ('k2', k2)):
        check_float(name, value, 0.0, owner=owner)  # an epoch
    if k1 >= k2:
        raise ValueError(f'{owner}: `k1` must be smaller than `k2`, got '
                         f'k1={k1!r}, k2={k2!r}')


def margin_at(epoch: float,
              schedule: str = 'step',
              m1: float = 0.25,
              m2: float = 0.5,
              k1: float = 30,
              k2: float = 60,
              margin: Optional[float] = None) -> float:
    """The margin ``f(e)`` at (1-based, possibly fractional) epoch ``e``.

    Defaults are eq. 56 (fine-tuning, 100 epochs).
    """
    validate_margin_schedule(schedule, m1, m2, k1, k2, margin)
    if schedule == 'constant':
        return float(margin)
    return MARGIN_SCHEDULES[schedule](epoch, m1, m2, k1, k2)

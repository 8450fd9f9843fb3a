"""Argument checks shared by every fgvc_aam component (one style).

A wrong type raises :class:`TypeError`, a wrong value or range
:class:`ValueError`; the message names the owner, the argument and the bad
value, so that a wrong config fails when it is built, not mid-training.
"""
import numbers
from typing import Any, Collection, List, Optional, Tuple

import torch


def check_int(name: str, value: Any, min_value: Optional[int] = None,
              owner: str = '') -> int:
    """``value`` must be an int (not a bool) and ``>= min_value``."""
    prefix = f'{owner}: ' if owner else ''
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f'{prefix}`{name}` must be an int, got '
                        f'{value!r} ({type(value).__name__})')
    if min_value is not None and value < min_value:
        raise ValueError(
            f'{prefix}`{name}` must be >= {min_value}, got {value!r}')
    return int(value)


def check_bool(name: str, value: Any, owner: str = '') -> bool:
    """``value`` must be a bool (``'False'`` or ``0`` would pass ``bool()``
    silently with the wrong meaning)."""
    if not isinstance(value, bool):
        prefix = f'{owner}: ' if owner else ''
        raise TypeError(f'{prefix}`{name}` must be a bool, got '
                        f'{value!r} ({type(value).__name__})')
    return value


_TRUE = ('yes', 'true', '1')
_FALSE = ('no', 'false', '0')


def parse_bool(name: str, value: Any, owner: str = '') -> bool:
    """A bool from a command line or a config: ``True``/``False``, ``1``/
    ``0``, or (any case) ``yes``/``no``, ``true``/``false``, ``1``/``0``;
    anything else is refused (``bool('no')`` is ``True``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    prefix = f'{owner}: ' if owner else ''
    raise ValueError(f'{prefix}`{name}` must be one of yes/no/true/false/'
                     f'1/0, got {value!r}')


def check_str(name: str, value: Any, owner: str = '') -> str:
    """``value`` must be a non-empty str."""
    prefix = f'{owner}: ' if owner else ''
    if not isinstance(value, str):
        raise TypeError(f'{prefix}`{name}` must be a non-empty str, got '
                        f'{value!r} ({type(value).__name__})')
    if not value:
        raise ValueError(f'{prefix}`{name}` must be a non-empty str, got '
                         f'{value!r}')
    return value


def check_choice(name: str, value: Any, choices: Collection,
                 owner: str = '') -> Any:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        prefix = f'{owner}: ' if owner else ''
        raise ValueError(f'{prefix}`{name}` must be one of {tuple(choices)}, '
                         f'got {value!r}')
    return value


def check_float(name: str, value: Any, min_value: Optional[float] = None,
                max_value: Optional[float] = None, strict_min: bool = False,
                owner: str = '', strict_max: bool = False,
                finite: bool = True) -> float:
    """``value`` must be a real number (finite unless ``finite=False``;
    never NaN) within the given bounds (``strict_min`` / ``strict_max``
    exclude the bound itself)."""
    prefix = f'{owner}: ' if owner else ''
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{prefix}`{name}` must be a number, got '
                        f'{value!r} ({type(value).__name__})')
    value = float(value)
    if value != value:
        raise ValueError(f'{prefix}`{name}` must not be NaN, got {value!r}')
    if finite and value in (float('inf'), float('-inf')):
        raise ValueError(f'{prefix}`{name}` must be finite, got {value!r}')
    if min_value is not None:
        if strict_min and value <= min_value:
            raise ValueError(
                f'{prefix}`{name}` must be > {min_value}, got {value!r}')
        if not strict_min and value < min_value:
            raise ValueError(
                f'{prefix}`{name}` must be >= {min_value}, got {value!r}')
    if max_value is not None:
        if strict_max and value >= max_value:
            raise ValueError(
                f'{prefix}`{name}` must be < {max_value}, got {value!r}')
        if not strict_max and value > max_value:
            raise ValueError(
                f'{prefix}`{name}` must be <= {max_value}, got {value!r}')
    return value


def feature_map(feats: Any, owner: str) -> torch.Tensor:
    """The last element of a backbone/neck tuple, which must be (N, C, H, W)."""
    x = feats[-1] if isinstance(feats, (tuple, list)) else feats
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x)
        raise ValueError(
            f'{owner} needs the last feature map (N, C, H, W), got {shape}. '
            'Use `neck=None` (or a neck that keeps the spatial maps) in the '
            'model config.')
    return x


def labels_of(data_samples: List[Any], owner: str) -> torch.Tensor:
    """Hard labels (N,) of a batch; soft ``gt_score`` targets are refused."""
    if 'gt_label' not in data_samples[0]:
        raise ValueError(f'{owner} needs hard `gt_label` targets')
    return torch.cat([sample.gt_label for sample in data_samples])


def pair(value: Any, name: str, owner: str) -> Tuple[Any, Any]:
    """``x`` -> ``(x, x)``; a sequence of length 2 is returned as a tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f'{owner}: `{name}` must be one value or a pair, '
                             f'got {value!r}')
        return tuple(value)
    return value, value

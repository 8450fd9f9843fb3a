"""The shared argument checks: TypeError for a wrong type, ValueError for a
wrong value; the message names the owner, the argument and the value."""
import math

import pytest

from projects.fgvc_aam.utils.checks import (check_bool, check_choice,
                                            check_float, check_int, check_str)


@pytest.mark.parametrize('call, error, match', [
    (lambda: check_int('n', 2.5, 1, 'Owner'), TypeError,
     r'Owner: `n` must be an int, got 2.5 \(float\)'),
    (lambda: check_int('n', True, 1, 'Owner'), TypeError, '`n`.*True'),
    (lambda: check_int('n', 0, 1, 'Owner'), ValueError,
     'Owner: `n` must be >= 1, got 0'),
    (lambda: check_bool('b', 'yes', 'Owner'), TypeError, "`b`.*'yes'"),
    (lambda: check_float('x', '1', owner='Owner'), TypeError, "`x`.*'1'"),
    (lambda: check_float('x', math.nan, owner='Owner'), ValueError,
     '`x`.*nan'),
    (lambda: check_float('x', math.inf, owner='Owner'), ValueError,
     '`x` must be finite, got inf'),
    (lambda: check_float('x', 0.0, 0.0, strict_min=True, owner='Owner'),
     ValueError, '`x` must be > 0.0, got 0.0'),
    (lambda: check_float('x', 1.0, 0.0, 1.0, strict_max=True,
                         owner='Owner'), ValueError,
     '`x` must be < 1.0, got 1.0'),
    (lambda: check_float('x', 1.5, 0.0, 1.0, owner='Owner'), ValueError,
     '`x` must be <= 1.0, got 1.5'),
    (lambda: check_str('s', 3, 'Owner'), TypeError, '`s`.*3'),
    (lambda: check_str('s', '', 'Owner'), ValueError, "`s`.*''"),
    (lambda: check_choice('c', 'z', ('a', 'b'), 'Owner'), ValueError,
     r"Owner: `c` must be one of \('a', 'b'\), got 'z'"),
])
def test_wrong_type_is_type_error_wrong_value_is_value_error(
        call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_valid_values_pass_through():
    assert check_int('n', 3, 1) == 3
    assert check_bool('b', False) is False
    assert check_float('x', 1, 0.0, 1.0) == 1.0
    assert check_float('x', math.inf, 0.0, finite=False) == math.inf
    assert check_str('s', 'a') == 'a'
    assert check_choice('c', 'a', ('a', 'b')) == 'a'

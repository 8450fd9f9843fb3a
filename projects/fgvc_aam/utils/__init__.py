from .checks import (check_bool, check_choice, check_float, check_int,
                     check_str, feature_map, labels_of, pair)

__all__ = [
    'check_bool', 'check_choice', 'check_float', 'check_int', 'check_str',
    'feature_map', 'labels_of', 'pair'
]

from .checks import (check_bool, check_choice, check_float, check_int,
                     check_str, feature_map, labels_of, pair,
                     parse_bool)
from .signatures import init_arguments, registered_class

__all__ = [
    'check_bool', 'check_choice', 'check_float', 'check_int', 'check_str',
    'feature_map', 'labels_of', 'pair', 'parse_bool',
    'init_arguments', 'registered_class'
]

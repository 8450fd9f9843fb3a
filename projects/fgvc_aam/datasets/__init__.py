from . import transforms  # noqa: F401
from .carved_split import CarvedSplit
from .cub_with_boxes import CUBWithBoxes
from .validation import DataValidationError, check_num_classes

__all__ = [
    'CarvedSplit', 'CUBWithBoxes', 'DataValidationError', 'check_num_classes'
]

from .box_transforms import (BoxAwareRandomCrop, BoxAwareRandomResizedCrop,
                             BoxAwareResizeEdge)
from .formatting import PackInputsWithBoxes

__all__ = [
    'BoxAwareRandomCrop', 'BoxAwareRandomResizedCrop', 'BoxAwareResizeEdge',
    'PackInputsWithBoxes'
]

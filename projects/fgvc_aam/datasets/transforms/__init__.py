from .box_transforms import (BoxAwareRandomCrop, BoxAwareRandomResizedCrop,
                             BoxAwareResizeEdge)
from .formatting import PackInputsWithBoxes
from .geometry import RecordInputGeometry, boxes_to_original

__all__ = [
    'BoxAwareRandomCrop', 'BoxAwareRandomResizedCrop', 'BoxAwareResizeEdge',
    'PackInputsWithBoxes', 'RecordInputGeometry', 'boxes_to_original'
]

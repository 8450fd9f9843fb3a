from .inferencer import (FGVCInferencer, draw_prediction, read_image,
                         write_new_image)
from .model import init_fitting_model
from .scores import cosine_scale

__all__ = [
    'FGVCInferencer', 'cosine_scale', 'draw_prediction', 'init_fitting_model',
    'read_image', 'write_new_image'
]

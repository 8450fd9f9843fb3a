from .drawing import GT_COLOR, PRED_COLOR, draw_box, draw_prediction
from .inferencer import FGVCInferencer, read_image, write_new_image
from .model import init_fitting_model
from .scores import cosine_scale

__all__ = [
    'FGVCInferencer', 'GT_COLOR', 'PRED_COLOR', 'cosine_scale', 'draw_box',
    'draw_prediction', 'init_fitting_model', 'read_image', 'write_new_image'
]

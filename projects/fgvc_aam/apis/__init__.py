from .inferencer import FGVCInferencer, draw_prediction
from .model import init_fitting_model

__all__ = ['FGVCInferencer', 'draw_prediction', 'init_fitting_model']

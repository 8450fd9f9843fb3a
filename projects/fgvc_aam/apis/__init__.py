from .inferencer import FGVCInferencer, draw_prediction

__all__ = ['FGVCInferencer', 'draw_prediction']

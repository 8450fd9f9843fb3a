from .bilinear_pooling import BilinearPooling
from .compact_bilinear_pooling import CompactBilinearPooling

__all__ = ['BilinearPooling', 'CompactBilinearPooling']

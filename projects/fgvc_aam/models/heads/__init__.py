from .ma_cnn_head import MACNNHead
from .mc_loss_head import MCLossHead

__all__ = ['MACNNHead', 'MCLossHead']

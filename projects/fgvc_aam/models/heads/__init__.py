from .angular_margin_head import AngularMarginHead
from .center_loss_head import CenterLossHead
from .coco_head import COCOHead
from .cosface_head import CosFaceHead
from .lgm_head import LGMHead
from .ma_cnn_head import MACNNHead
from .mc_loss_head import MCLossHead
from .sphereface_head import SphereFaceHead

__all__ = [
    'AngularMarginHead', 'CenterLossHead', 'COCOHead', 'CosFaceHead',
    'LGMHead', 'MACNNHead', 'MCLossHead', 'SphereFaceHead'
]

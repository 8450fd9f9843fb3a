from .resnet_last_stage import ResNetLastStage
from .vgg_last_conv import VGGLastConv

__all__ = ['ResNetLastStage', 'VGGLastConv']

from .resnet_last_stage import ResNetLastStage

__all__ = ['ResNetLastStage']

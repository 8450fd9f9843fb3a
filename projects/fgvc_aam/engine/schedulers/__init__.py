from .group_multistep_lr import GroupMultiStepLR, GroupMultiStepParamScheduler

__all__ = ['GroupMultiStepLR', 'GroupMultiStepParamScheduler']

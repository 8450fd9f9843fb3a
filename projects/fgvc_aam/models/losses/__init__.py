from .center_loss import CenterLoss
from .channel_grouping_loss import ChannelGroupingLoss
from .mutual_channel_loss import MutualChannelLoss
from .pairwise_confusion_loss import PairwiseConfusionLoss
from .softmax_focal_loss import SoftmaxFocalLoss

__all__ = [
    'CenterLoss', 'ChannelGroupingLoss', 'MutualChannelLoss',
    'PairwiseConfusionLoss', 'SoftmaxFocalLoss'
]

from .channel_grouping_loss import ChannelGroupingLoss
from .mutual_channel_loss import MutualChannelLoss

__all__ = ['ChannelGroupingLoss', 'MutualChannelLoss']

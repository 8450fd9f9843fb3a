from .mutual_channel_loss import MutualChannelLoss

__all__ = ['MutualChannelLoss']

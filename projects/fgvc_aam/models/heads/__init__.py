from .mc_loss_head import MCLossHead

__all__ = ['MCLossHead']

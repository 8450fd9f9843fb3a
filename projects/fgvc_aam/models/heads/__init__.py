from .angular_margin_head import AngularMarginHead

__all__ = ['AngularMarginHead']

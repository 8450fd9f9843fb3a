from .localization_metric import LocalizationMetric

__all__ = ['LocalizationMetric']

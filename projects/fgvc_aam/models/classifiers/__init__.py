from .two_branch_classifier import TwoBranchClassifier, crop_and_resize

__all__ = ['TwoBranchClassifier', 'crop_and_resize']

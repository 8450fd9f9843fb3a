# The thesis's full model on CUB-200-2011 with ResNet-101.
_base_ = './two_branch/two-branch-aam-step_resnet101_2xb8-100e_cub.py'

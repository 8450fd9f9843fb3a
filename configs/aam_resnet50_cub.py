# The thesis's full model on CUB-200-2011 (two-branch + AAM step, ResNet-50).
_base_ = './two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py'

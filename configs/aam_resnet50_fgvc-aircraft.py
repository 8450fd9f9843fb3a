# The thesis's full model on FGVC-Aircraft (two-branch + AAM step, ResNet-50).
_base_ = './two_branch/two-branch-aam-step_resnet50_2xb8-100e_fgvc-aircraft.py'

# The main job of `make quickstart`: the thesis model (two-branch classifier
# with the channel-aggregation localizer + AAM step margin) trained from
# scratch on the embedded synthetic fine-grained data set, on CPU: a
# ResNet-18 of 16 base channels (0.7 M parameters), 30 epochs, a few minutes
# on 2 CPU cores.
_base_ = './two_branch/two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py'

# The main job of `make quickstart`: the thesis model (two-branch classifier
# with the channel-aggregation localizer + AAM step margin) trained from
# scratch on the embedded synthetic fine-grained data set, on CPU.
# A ResNet-18 of 16 base channels (0.7 M parameters) keeps the whole job
# within a few minutes on 2 CPU cores; the 32-channel sibling is
# configs/two_branch/two-branch-aam-step_resnet18-w32_1xb16-10e_synthetic-fgvc.py.
_base_ = './two_branch/two-branch-aam-step_resnet18-w32_1xb16-10e_synthetic-fgvc.py'

model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    head=dict(in_channels=128))

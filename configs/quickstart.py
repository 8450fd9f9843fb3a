# The main job of `make quickstart`: the thesis model (two-branch classifier
# with the channel-aggregation localizer + AAM step margin) trained from
# scratch on the embedded synthetic fine-grained data set, on CPU.
_base_ = './two_branch/two-branch-aam-step_resnet18-w32_1xb16-10e_synthetic-fgvc.py'

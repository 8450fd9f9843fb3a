# The two-branch classifier with a plain softmax head (no angular margin):
# the synthetic CPU sibling of the thesis model with `LinearClsHead`
# instead of the AAM head, to separate the effect of the two-branch
# architecture from that of the AAM loss in the comparison.
_base_ = ['./two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

model = dict(
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=16,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

# No margin to schedule.
custom_hooks = []

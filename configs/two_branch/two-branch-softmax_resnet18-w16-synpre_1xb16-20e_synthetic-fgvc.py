# The fine-tuned two-branch classifier with a plain softmax head: separates
# the two-branch architecture from the AAM loss in the fine-tuning
# comparison.
_base_ = ['./two-branch-aam-step_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py']  # noqa: E501

model = dict(
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=16,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

custom_hooks = []

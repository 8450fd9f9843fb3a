# The single-branch (plain ImageClassifier) twin of tiny_two_branch.py.
_base_ = ['./tiny_two_branch.py']
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8,
                  strides=(1, 2, 2, 1)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=3, in_channels=64))

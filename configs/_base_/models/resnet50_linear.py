# ResNet-50 + global average pooling + linear softmax classifier (the
# fine-tuning baseline, as MMPretrain's _base_/models/resnet50.py; written
# out so that no 'mmpretrain::' base lookup is needed).
_base_ = ['./resnet50_gap.py']

model = dict(
    head=dict(
        type='LinearClsHead',
        num_classes=200,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))

# ResNet-18 from scratch + global average pooling + the AAM head
# (thesis Table 8 runs; margin set by MarginScheduleHook, scale s = 30).
_base_ = ['./resnet18_gap.py']

model = dict(
    head=dict(
        type='AngularMarginHead',
        num_classes=200,
        in_channels=512,
        scale=30.0,
        margin=0.0,
        overflow='literal',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=None))

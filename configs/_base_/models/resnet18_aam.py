# ResNet-18 from scratch + global average pooling + the AAM head
# (thesis Table 8 runs; margin set by MarginScheduleHook, scale s = 30).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='AngularMarginHead',
        num_classes=200,
        in_channels=512,
        scale=30.0,
        margins=0.0,
        overflow='literal',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=None))

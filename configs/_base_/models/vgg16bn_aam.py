# VGG-16 (with BN) from scratch + global average pooling + the AAM head
# (thesis Table 8 runs; margin set by MarginScheduleHook, scale s = 30).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VGG',
        depth=16,
        num_classes=-1,
        norm_cfg=dict(type='BN'),
        out_indices=(4, ),
        with_last_pool=False),
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

# VGG-16 with BN (from scratch), conv5_3 after ReLU (no pool5) + global
# average pooling: the one backbone definition of the Table 8 VGG-16-BN
# runs. No head: the including model base adds the method's (512 input
# channels).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VGG',
        depth=16,
        num_classes=-1,
        norm_cfg=dict(type='BN'),
        out_indices=(4, ),
        with_last_pool=False),
    neck=dict(type='GlobalAveragePooling'))

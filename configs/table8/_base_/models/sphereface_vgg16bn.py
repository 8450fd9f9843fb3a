# Thesis Table 8, from scratch: A-Softmax / SphereFace (Liu et al. 2017), m =
# 4 with the official lambda annealing.
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
        type='SphereFaceHead',
        num_classes=200,
        in_channels=512,
        margin=4,
        lambda_base=1000.0,
        lambda_gamma=0.12,
        lambda_power=1.0,
        lambda_min=5.0,
        topk=(1, 5)))

# Thesis Table 8, from scratch: LMCL / CosFace (Wang et al. 2018): s = 64, m
# = 0.35.
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
        type='CosFaceHead',
        num_classes=200,
        in_channels=512,
        scale=64.0,
        margin=0.35,
        topk=(1, 5)))

# Thesis Table 8, from scratch: Focal loss (Lin et al. 2017): MMPretrain's
# FocalLoss (sigmoid form, gamma = 2, alpha = 0.25) on a linear head.
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
        type='LinearClsHead',
        num_classes=200,
        in_channels=512,
        loss=dict(type='FocalLoss', gamma=2.0, alpha=0.25, loss_weight=1.0),
        topk=(1, 5)))

# Thesis Table 8, from scratch: Focal loss (Lin et al. 2017): MMPretrain's
# FocalLoss (sigmoid form, gamma = 2, alpha = 0.25) on a linear head.
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
        type='LinearClsHead',
        num_classes=200,
        in_channels=512,
        loss=dict(type='FocalLoss', gamma=2.0, alpha=0.25, loss_weight=1.0),
        topk=(1, 5)))

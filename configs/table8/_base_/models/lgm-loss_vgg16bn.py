# Thesis Table 8, from scratch: L-GM loss (Wan et al. 2018): Gaussian-mixture
# logits with margin alpha = 0.1 and likelihood weight lambda = 0.01.
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
        type='LGMHead',
        num_classes=200,
        in_channels=512,
        alpha=0.1,
        lambda_lkd=0.01,
        topk=(1, 5)))

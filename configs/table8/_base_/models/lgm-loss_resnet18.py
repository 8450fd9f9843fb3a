# Thesis Table 8, from scratch: L-GM loss (Wan et al. 2018): Gaussian-mixture
# logits with margin alpha = 0.1 and likelihood weight lambda = 0.01.
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
        type='LGMHead',
        num_classes=200,
        in_channels=512,
        alpha=0.1,
        lambda_lkd=0.01,
        topk=(1, 5)))

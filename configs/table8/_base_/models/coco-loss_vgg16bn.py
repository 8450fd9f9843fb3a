# Thesis Table 8, from scratch: COCO loss (Liu et al. 2017): scaled cosine
# softmax to learnable normalised centroids, alpha = 16.
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
        type='COCOHead',
        num_classes=200,
        in_channels=512,
        scale=16.0,
        topk=(1, 5)))

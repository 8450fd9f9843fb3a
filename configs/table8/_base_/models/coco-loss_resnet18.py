# Thesis Table 8, from scratch: COCO loss (Liu et al. 2017): scaled cosine
# softmax to learnable normalised centroids, alpha = 16.
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
        type='COCOHead',
        num_classes=200,
        in_channels=512,
        scale=16.0,
        topk=(1, 5)))

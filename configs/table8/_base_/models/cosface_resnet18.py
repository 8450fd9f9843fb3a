# Thesis Table 8, from scratch: LMCL / CosFace (Wang et al. 2018): s = 64, m
# = 0.35.
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
        type='CosFaceHead',
        num_classes=200,
        in_channels=512,
        scale=64.0,
        margin=0.35,
        topk=(1, 5)))

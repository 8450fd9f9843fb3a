# Thesis Table 8, from scratch: MC-loss (Chang et al. 2020): official weights
# alpha = 1.5, beta = 20, xi = 3 (a 1x1 conv maps 512 -> 600 channels).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VGG',
        depth=16,
        num_classes=-1,
        norm_cfg=dict(type='BN'),
        out_indices=(4, ),
        with_last_pool=False),
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=512,
        channels_per_class=3,
        mc_loss=dict(type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
        topk=(1, 5)))

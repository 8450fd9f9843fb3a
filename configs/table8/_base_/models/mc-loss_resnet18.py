# Thesis Table 8, from scratch: MC-loss (Chang et al. 2020): official weights
# alpha = 1.5, beta = 20, xi = 3 (a 1x1 conv maps 512 -> 600 channels).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=512,
        channels_per_class=3,
        mc_loss=dict(type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
        topk=(1, 5)))

# OUR variant of MC-loss (1x1 reduction to K x 3 channels; the official
# layout is mc_loss_resnet50_official.py).
# MC-loss (Chang et al. 2020) on ResNet-50: the head takes the last feature
# map (no GAP neck), reduces 2048 -> num_classes * xi channels with a 1x1
# conv-BN-ReLU, classifies with GAP + linear (loss_ce) and adds the official
# MC-loss terms alpha * L_dis (loss_dis) + beta * (1 - L_div / xi) (loss_div).
_base_ = ['./resnet50_gap.py']

model = dict(
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=2048,
        channels_per_class=3,
        mc_loss=dict(type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))

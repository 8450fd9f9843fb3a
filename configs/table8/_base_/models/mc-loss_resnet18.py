# Thesis Table 8, from scratch: MC-loss (Chang et al. 2020) on ResNet-18 as
# the official script (github.com/PRIS-CV/Mutual-Channel-Loss,
# CUB-200-2011_ResNet18.py at commit 213af45):
# - the last stage itself outputs num_classes x 3 = 600 channels at stride 1
#   (14 x 14 maps at 224 px; line 169), no 1x1 layer,
# - xi = 3, the CWA mask drops 1 of 3 (lines 216-229), weights alpha = 1.5,
#   beta = 20 (lines 326, 390-394),
# - classifier: global max pooling -> BN -> FC(512) -> BN -> ELU -> FC
#   (lines 258-269).
# Data sets with K != 200 classes use K x 3 channels (set in the config).
# Init as the official (lines 173-179): Kaiming-normal fan-out convs
# (MMPretrain's default), BN weight 1 / bias 0, PyTorch's default Linear
# init (init_cfg=None).
_base_ = ['../../../_base_/models/resnet18_gap.py']

model = dict(
    backbone=dict(
        type='ResNetLastStage',
        strides=(1, 2, 2, 1),
        last_stage_channels=600,
        zero_init_residual=False),  # official: every BN weight starts at 1
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=600,
        channels_per_class=3,
        pool='max',
        hidden_channels=512,
        mc_loss=dict(type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
        init_cfg=None,
        topk=(1, 5)))

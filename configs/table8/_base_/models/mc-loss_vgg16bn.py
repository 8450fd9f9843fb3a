# Thesis Table 8, from scratch: MC-loss (Chang et al. 2020) on VGG-16 as the
# official script (github.com/PRIS-CV/Mutual-Channel-Loss, CUB-200-2011.py
# at commit 1c1ff52):
# - VGG-16 with BN whose conv4_3 and conv5_3 output num_classes x 3 = 600
#   channels, no pool after stage 5 (14 x 14 maps at 224 px; line 60),
#   PyTorch's default init (the script has no init code: init_cfg=None),
# - xi = 3, the CWA mask drops 1 of 3 (lines 98-111), weights alpha = 1.5,
#   beta = 20 (lines 210, 276-279),
# - classifier: 2 x 2 max pooling to 7 x 7, flattened -> BN -> FC(512) ->
#   BN -> ELU -> FC (lines 141-152).
# Data sets with K != 200 classes use K x 3 channels (set in the config).
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    backbone=dict(
        type='VGGLastConv',
        last_conv_channels=(None, None, None, 600, 600),
        init_cfg=None),
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=600,
        channels_per_class=3,
        pool='max',
        pool_size=7,
        hidden_channels=512,
        mc_loss=dict(type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
        init_cfg=None,
        topk=(1, 5)))

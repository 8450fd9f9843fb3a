# MC-loss (Chang et al. 2020) on ResNet-50 as the official script
# (github.com/PRIS-CV/Mutual-Channel-Loss, MC_ResNet50.py at commit 9e495cc):
# - all 2048 channels of the last stage carry the MC-loss, no 1x1 layer;
#   with 200 classes 152 classes own 10 channels and 48 own 11 (line 106),
# - the CWA mask drops 4 channels of every class (lines 110-120),
# - MC term 0.0005 * (L_dis + 10 * L_div) (lines 35, 189, 272), i.e.
#   weight_dis = 0.0005, weight_div = 0.005, L_div summed over the two group
#   sizes (lines 145-160),
# - classifier: global max pooling -> BN -> FC(512) -> BN -> ELU -> FC
#   (lines 198-209).
_base_ = ['./resnet50_gap.py']

model = dict(
    neck=None,
    head=dict(
        type='MCLossHead',
        num_classes=200,
        in_channels=2048,
        channels_per_class=None,
        pool='max',
        hidden_channels=512,
        mc_loss=dict(
            type='MutualChannelLoss',
            num_masked=4,
            weight_dis=0.0005,
            weight_div=0.005),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=None,
        topk=(1, 5),
    ))

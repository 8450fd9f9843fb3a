# Thesis Table 8, from scratch: Center loss (Wen et al. 2016): softmax +
# lambda * center loss, lambda = 0.003, centre rate alpha = 0.5.
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    head=dict(
        type='CenterLossHead',
        num_classes=200,
        in_channels=512,
        center_loss=dict(type='CenterLoss', loss_weight=0.003, alpha=0.5),
        topk=(1, 5)))

# Thesis Table 8, from scratch: Focal loss (Lin et al. 2017) in its softmax
# (multi-class classification) form -(1 - p_t)^gamma log p_t, gamma = 2
# (the paper's), no alpha, on a linear head: SoftmaxFocalLoss. MMPretrain's
# sigmoid FocalLoss (the detection form, alpha = 0.25) remains available:
# loss=dict(type='FocalLoss', gamma=2.0, alpha=0.25).
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    head=dict(
        type='LinearClsHead',
        num_classes=200,
        in_channels=512,
        loss=dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=1.0),
        topk=(1, 5)))

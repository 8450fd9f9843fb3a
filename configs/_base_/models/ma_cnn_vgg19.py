# MA-CNN (Zheng et al. 2017) on VGG-19 conv5_4 (no pool5): 4 learnable part
# attentions from channel grouping, per-part softmax + concatenated
# part/object classifier, channel-grouping loss (lambda = 2, margin = 0.02).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VGG', depth=19, num_classes=-1, out_indices=(4, ),
        with_last_pool=False),
    neck=None,
    head=dict(
        type='MACNNHead',
        num_classes=200,
        in_channels=512,
        num_parts=4,
        cng_loss=dict(type='ChannelGroupingLoss', div_weight=2.0,
                      margin=0.02),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))

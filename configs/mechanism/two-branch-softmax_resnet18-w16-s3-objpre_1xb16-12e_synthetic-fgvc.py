# Mechanism study, row "two-branch softmax, channel-aggregation localizer":
# the thesis model's architecture with the single-branch softmax head.
_base_ = ['./finetune_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']

model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum')
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

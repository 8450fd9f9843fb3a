# Mechanism study, row "two-branch AAM step" (the thesis model): raw image
# + the channel-aggregation localizer's crop through the one backbone of
# the single-branch rows (same strides: 12x12 map at 96 px), L = L_raw +
# L_object, AAM step margin; prediction from the sum of both branches'
# logits, as the thesis.
_base_ = ['./aam-step_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']

model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum')
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

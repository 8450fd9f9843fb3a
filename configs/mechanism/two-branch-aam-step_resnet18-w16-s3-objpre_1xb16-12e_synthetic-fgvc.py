# Mechanism study, row "two-branch AAM step" (the thesis model): raw image
# + the channel-aggregation localizer's crop through the one backbone of
# the single-branch rows (same strides: 12x12 map at 96 px), L = L_raw +
# L_object, AAM step margin; prediction from the sum of both branches'
# logits, as the thesis.
# Head and margin: the base of the single-branch AAM row (inherited from
# the base, not from that row, so that the AOLM row and configs/quickstart.py
# are at most two configs away from their _base_ files).
_base_ = ['../_base_/synthetic_fgvc_objpre_bs16_12e_aam-step.py']

model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum')
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

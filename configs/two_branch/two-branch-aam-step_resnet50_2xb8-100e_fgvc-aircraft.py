# The thesis model (two-branch + AAM step margin, eqs. 55-56) with
# ResNet-50 on FGVC-Aircraft (Table 7). LocalizationMetric reports only when
# the data set packs `gt_bboxes` (it returns {} otherwise).
_base_ = ['../aam/aam-step_resnet50_2xb8-100e_fgvc-aircraft.py']

model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum')

val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

# CPU-sized sibling of the thesis model on the synthetic data set (128 px):
# two-branch classifier + AAM step margin (milestones scaled to 30 epochs),
# ResNet-18 with 16 base channels from scratch. The last stage keeps stride
# 16 (strides 1, 2, 2, 1) so the localizer sees an 8x8 map instead of 4x4.
_base_ = ['../aam/aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

model = dict(
    type='TwoBranchClassifier',
    backbone=dict(strides=(1, 2, 2, 1)),
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum')

val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

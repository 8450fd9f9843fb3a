# The thesis model, fine-tuned (Table 7 analog of
# two-branch-aam-step_resnet50_2xb8-100e_cub.py): two-branch classifier +
# AAM step margin on the synthetic pretrained 16-channel ResNet-18, the
# thesis's fine-tuning recipe scaled to 20 epochs. The last stage keeps
# stride 16 (strides 1, 2, 2, 1), as in the from-scratch sibling.
# overflow / scale / test_branch: see configs/two_branch/README.md.
_base_ = ['../aam/aam-step_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py']

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

# The thesis model on CUB-200-2011 (Table 7), for
# configs/two_branch/two-branch-aam-step_*_cub.py: the two-level
# (raw + object) classifier with one shared ResNet-50, the channel-
# aggregation localizer (eqs. 47-48, 8-connectivity), the AAM loss with the
# step margin of eq. 56 and the fine-tuning recipe of chapter 4. Loss
# L_raw + L_object (eq. 55); test output: the sum of the two branches'
# logits. The ResNet-101 configs change the backbone, the 8xb2 the batch.
_base_ = [
    '../../_base_/models/resnet50_aam.py',
    '../../_base_/datasets/cub_bs8_448.py',
    '../../_base_/schedules/fgvc_finetune_bs16_100e_aam-step.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer', connectivity=8),
    test_branch='sum',
    head=dict(num_classes=200))

# Accuracy plus the localizer's mean IoU / CorLoc against the data set's
# boxes (LocalizationMetric returns {} when the data set packs no
# `gt_bboxes`).
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='LocalizationMetric', iou_thr=0.5),
]
test_evaluator = val_evaluator

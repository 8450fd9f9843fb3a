# Pairwise Confusion (Dubey et al. 2018) on a fine-tuned ResNet-50, 448 px:
# softmax CE + lambda * Euclidean confusion of the batch halves.
# Recipe: thesis fine-tuning (section 3), batch 16 = 2 GPUs x 8.
_base_ = [
    '../_base_/models/resnet50_linear.py',
    '../_base_/datasets/fgvc_aircraft_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

pretrained = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    head=dict(
        num_classes=100,
        loss=dict(type='PairwiseConfusionLoss', confusion_weight=10.0),
        topk=(1, 5)))

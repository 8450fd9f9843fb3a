# B-CNN (Lin et al. 2015), VGG-16, ImageNet-pretrained, 448 px (thesis Table
# 7 row "B-CNN").
# Recipe: thesis fine-tuning (section 3), batch 16 = 2 GPUs x 8.
_base_ = [
    '../_base_/models/bcnn_vgg16.py',
    '../_base_/datasets/stanford_cars_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

pretrained = 'https://download.openmmlab.com/mmclassification/v0/vgg/vgg16_batch256_imagenet_20210208-db26f1a5.pth'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    head=dict(
        num_classes=196,
        topk=(1, 5)))

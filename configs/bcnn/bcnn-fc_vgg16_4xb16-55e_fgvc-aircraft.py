# B-CNN (Lin et al. 2015), VGG-16, ImageNet-pretrained, 448 px, reference
# recipe stage 1 of 2 (github.com/HaoMood/bilinear-cnn, commit bcc2883,
# src/bilinear_cnn_fc.py): the classifier alone, VGG-16 frozen, lr 1.0,
# weight decay 1e-8, 55 epochs, batch 64 = 4 GPUs x 16 (the reference ran
# DataParallel on 4 GPUs). Stage 2 is bcnn-all_vgg16_4xb16-25e_fgvc-aircraft.py,  # noqa: E501
# which loads this run's last checkpoint.
_base_ = [
    '../_base_/models/bcnn_vgg16.py',
    '../_base_/datasets/fgvc_aircraft_bs8_448.py',
    '../_base_/schedules/bcnn_two_stage_bs64.py',
    '../_base_/default_runtime.py',
]

pretrained = 'https://download.openmmlab.com/mmclassification/v0/vgg/vgg16_batch256_imagenet_20210208-db26f1a5.pth'  # noqa
model = dict(
    backbone=dict(
        frozen_stages=5,  # all of conv1_1 ... conv5_3 (lines 57-59)
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    head=dict(
        num_classes=100,
        # torch.nn.init.kaiming_normal on the fc weight, bias 0 (lines 61-63)
        init_cfg=dict(
            type='Kaiming', layer='Linear', mode='fan_in',
            distribution='normal', bias=0.0),
        topk=(1, 5)))

# Resize the shorter edge to 448, flip, random crop 448; test: shorter edge
# 448, centre crop 448 (lines 124-137). ImageNet mean / std as the base.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=448, edge='short'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', crop_size=448),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=448, edge='short'),
    dict(type='CenterCrop', crop_size=448),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# What the mechanism study's fine-tuning configs (configs/mechanism/)
# share: the embedded synthetic fine-grained set (16 bird classes, 128 px)
# read at a 96 px input (resize 108, random / centre crop 96: the
# pretraining's), the thesis's fine-tuning recipe scaled to 12 epochs, the
# runtime, and the checkpoint of the object-centric pretraining
# (configs/pretrain/softmax_resnet18-w16-s3_1xb32-15e_synthetic-objects-
# pretrain.py, made by tools/analysis_tools/pretrain_synthetic.py
# --objects), read as _base_.pretrained by the configs' model.
_base_ = [
    './models/resnet18-w16-s3_gap.py',
    './datasets/synthetic_fgvc_bs16_128.py',
    './schedules/synthetic_finetune_bs16_12e.py',
    './default_runtime.py',
]

pretrained = 'work_dirs/pretrained/resnet18-w16-s3_synthetic-objects-pretrain.pth'  # noqa: E501
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=108),
    dict(type='BoxAwareRandomCrop', crop_size=96),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputsWithBoxes'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=108),
    dict(type='CenterCrop', crop_size=96),
    dict(type='PackInputsWithBoxes'),
]
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

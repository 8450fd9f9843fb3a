# The thesis's from-scratch data recipe (Table 8) on top of
# cub_bs8_448.py: 224 x 224 inputs, batch 32, as the official MC-loss
# scripts: resize to 224 x 224, random crop 224 with 4 px padding, flip;
# test: resize to 224 x 224. Classification only: boxes are not carried
# through this pipeline.
_base_ = ['../../../_base_/datasets/cub_bs8_448.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomCrop', crop_size=224, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# The embedded synthetic set (synthetic_fgvc_bs16_128.py) read at a 96 px
# input: resize 108, random / centre crop 96 (the mechanism study's input
# and its pretraining's), without loader worker processes.
_base_ = ['./synthetic_fgvc_bs16_128.py']

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

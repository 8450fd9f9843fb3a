# The main job of `make quickstart`: the thesis model (two-branch classifier
# with the channel-aggregation localizer + AAM step margin), a ResNet-18 of
# 16 base channels (0.7 M parameters) from scratch, on the embedded
# synthetic data set (the generator's defaults: 16 classes, 1600 training and
# 800 test images of 128 px), sized to take a few minutes on 2 CPU cores.
# Against its 30-epoch sibling it trades: a 96 px network input (resize 108,
# crop 96) instead of 128, 12 epochs instead of 30 (warm-up 1 epoch, cosine
# to 0; margin milestones scaled from 9, 18 of 30 to k1 = 4, k2 = 7: m = 0.25
# in epochs 5-7, 0.5 from epoch 8),
# and no validation during training (tools/quickstart.py tests the last
# checkpoint once, with tools/test.py).
_base_ = './two_branch/two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py'

max_epochs = 12

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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
# validation only after the last epoch (the test is the same split)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=4, k2=7),
    dict(type='NonFiniteLossHook'),
]

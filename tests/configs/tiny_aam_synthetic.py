# A tiny AAM run for the reliability tests: step margin schedule
# (MarginScheduleHook), two named param groups with their own lr milestones
# (GroupMultiStepLR), random crop + flip made replayable by EpochSeedHook,
# deterministic CPU settings. Data root and class count come from the tests
# (--cfg-options, see tests/helpers.py::data_options).
_base_ = [
    '../../configs/_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../../configs/_base_/default_runtime.py',
]
num_classes = 4
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='AngularMarginHead',
        num_classes=num_classes,
        in_channels=64,
        scale=16.0,
        margin=0.0))
data_preprocessor = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=72),
    dict(type='BoxAwareRandomCrop', crop_size=64),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputsWithBoxes'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=72),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputsWithBoxes'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    constructor='NamedGroupOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        default_group='backbone',
        custom_keys={'head': dict(lr_mult=10.0, name='head')}))
param_scheduler = dict(
    type='GroupMultiStepLR',
    by_epoch=True,
    milestones=dict(backbone=[2], head=[1]),
    gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=1)
val_cfg = dict()
test_cfg = dict()

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='step', m1=0.25, m2=0.5, k1=1,
         k2=2),
]  # EpochSeedHook, NonFiniteLossHook: default_runtime's default_hooks
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
randomness = dict(seed=0, deterministic=True)

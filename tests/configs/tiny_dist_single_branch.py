# Tiny single-branch AAM model for the distributed-equivalence test: a
# GroupNorm ResNet (BatchNorm statistics would differ between one process
# with batch 2b and two processes with batch b), no random augmentation,
# deterministic CPU settings. The tests set the data root, the class count
# and the per-process batch size with --cfg-options.
_base_ = [
    '../../configs/_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../../configs/_base_/default_runtime.py',
]
num_classes = 4
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=8,
        norm_cfg=dict(type='GN', num_groups=4, requires_grad=True)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='AngularMarginHead',
        num_classes=num_classes,
        in_channels=64,
        scale=16.0,
        margin=0.0))
data_preprocessor = dict(num_classes=num_classes)

pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputsWithBoxes'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, dataset=dict(pipeline=pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# Tests also train it (and its twins) for one epoch, where k2=1 is the
# last epoch: deliberately, hence allow_unreached_milestones (a warning).
custom_hooks = [
    dict(type='MarginScheduleHook', schedule='step', m1=0.25, m2=0.5, k1=0,
         k2=1, allow_unreached_milestones=True),
]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
randomness = dict(seed=0, deterministic=True)

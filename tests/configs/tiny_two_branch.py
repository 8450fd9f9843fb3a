# A tiny two-branch model for the tool smoke tests (random init). The test
# split is an image folder with one sub-folder per class (CustomDataset);
# tests point `test_dataloader.dataset.data_root` at generated images.
# Self-contained (no `mmpretrain::` base): loads without pkg_resources.
default_scope = 'mmpretrain'
custom_imports = dict(
    imports=['projects.fgvc_aam', 'projects.fgvc_aam_hardening'],
    allow_failed_imports=False)
num_classes = 3
model = dict(
    type='TwoBranchClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8,
                  strides=(1, 2, 2, 1)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=64),
    localizer=dict(type='ChannelAggregationLocalizer'),
    test_branch='sum')
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]
test_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CustomDataset', data_root='data/tiny_folder',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))

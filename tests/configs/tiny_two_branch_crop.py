# tiny_dist_two_branch.py with a resize + centre-crop test pipeline (as the
# real configs have): the picture tools and the demo must agree with
# tools/test.py through it. Tests set data root and class count.
_base_ = ['./tiny_dist_two_branch.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=72),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputsWithBoxes'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

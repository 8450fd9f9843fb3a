# FGVC-Aircraft, the data recipe of the reference B-CNN code
# (github.com/HaoMood/bilinear-cnn, commit bcc2883, src/bilinear_cnn_fc.py
# lines 124-137) on top of fgvc_aircraft_bs8_448.py: resize the shorter edge
# to 448, flip, random crop 448; test: shorter edge 448, centre crop 448;
# batch 16 per GPU. ImageNet mean / std as the base.
_base_ = ['../../../_base_/datasets/fgvc_aircraft_bs8_448.py']

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

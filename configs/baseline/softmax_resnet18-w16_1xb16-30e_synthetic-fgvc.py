# Softmax baseline: ResNet-18 (16 base channels) trained from scratch
# with softmax cross-entropy on the embedded synthetic data, on CPU.
_base_ = [
    '../_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../_base_/schedules/synthetic_cpu_bs16_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        num_stages=4,
        out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=16,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))

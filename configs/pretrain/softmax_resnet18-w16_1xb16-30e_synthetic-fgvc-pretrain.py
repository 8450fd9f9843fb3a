# The "ImageNet" of the synthetic fine-grained set: a 16-channel ResNet-18
# with softmax, trained from scratch on the pretraining set (48 other
# classes of the same domain). Its backbone initialises every
# *_resnet18-w16-synpre_* fine-tuning config through
# init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone').
# Made (and cached by content) by
#   python tools/analysis_tools/pretrain_synthetic.py
# The schedule is the from-scratch CPU schedule (lr 0.05, warm-up, cosine)
# for 30 epochs at a 96 px input (the fine-tuning comparison's input):
# 943 s (15.7 min) on 2 CPU cores shared with other jobs (load ~8), 20.8%
# top-1 / 79.8% top-5 on the pretraining set's test split (48 classes,
# chance 2.1%); 15 epochs had given 11.7% top-1.
_base_ = [
    '../_base_/models/resnet50_linear.py',
    '../_base_/datasets/synthetic_fgvc_pretrain_bs16_128.py',
    '../_base_/schedules/synthetic_cpu_bs16_30e.py',
    '../_base_/default_runtime.py',
]

num_classes = 48
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    head=dict(num_classes=num_classes, in_channels=128, topk=(1, 5)))

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

train_cfg = dict(val_interval=30)  # test once, after the last epoch
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1, save_best=None))

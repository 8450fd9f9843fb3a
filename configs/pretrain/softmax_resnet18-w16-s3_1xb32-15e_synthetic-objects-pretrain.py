# The "ImageNet" of the mechanism study: the three-stage 16-channel
# ResNet-18 (configs/_base_/models/resnet18-w16-s3_gap.py: 12x12 map at
# 96 px) with softmax, trained from scratch on the object-centric
# pretraining set (48 object kinds that are not birds, 150 training images
# each, on the fine-tuning set's clutter) at the study's 96 px input.
# AdamW, one-cycle lr (peak 2e-3 at 30%), batch 32, 15 epochs: with the
# SGD schedule of the from-scratch configs (lr 0.05, batch 16) this network
# stayed at chance for 30 epochs (3.3% top-1 on 48 kinds of 70 images).
# Chosen on the pretraining set only, before any fine-tuning. Its
# backbone initialises every configs/mechanism/ config.
# Made (and cached by content) by
#   python tools/analysis_tools/pretrain_synthetic.py --objects
_base_ = [
    '../_base_/models/resnet18-w16-s3_gap.py',
    '../_base_/datasets/synthetic_objects_pretrain_bs16_96.py',
    '../_base_/default_runtime.py',
]

max_epochs = 15
train_dataloader = dict(batch_size=32)
model = dict(
    head=dict(
        type='LinearClsHead',
        num_classes=48,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = dict(
    type='OneCycleLR', eta_max=2e-3, pct_start=0.3, total_steps=max_epochs,
    by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs,
                 val_interval=max_epochs)  # test once, at the end
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1, save_best=None))

# Synthetic, CPU-sized sibling of aam-linear_resnet50_2xb8-100e_cub.py: AAM,
# linear margin (eq. 53) on the synthetic data set; ResNet-18 with 32 base
# channels trained from scratch for 10 epochs (the quickstart schedule), with
# the margin milestones scaled from 100 to 10 epochs (k1=3, k2=6).
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../_base_/schedules/synthetic_cpu_bs16_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18, stem_channels=32, base_channels=32, init_cfg=None),
    head=dict(num_classes=16, in_channels=256))

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='linear',
         m1=0.25, m2=0.5, k1=3, k2=6),
    dict(type='NonFiniteLossHook'),
]

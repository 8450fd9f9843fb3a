# Synthetic, CPU-sized sibling of aam-step_resnet50_2xb8-100e_cub.py: AAM,
# step margin (eq. 52) on the synthetic data set; ResNet-18 with 16 base
# channels trained from scratch for 30 epochs (the quickstart schedule), with
# the margin milestones scaled from 100 to 30 epochs (k1=9, k2=18).
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../_base_/schedules/synthetic_cpu_bs16_30e.py',
    '../_base_/default_runtime.py',
]

# From scratch, eq. 51 read literally (`overflow='literal'`, the thesis
# configs' setting) has a degenerate minimum: all class weights collapse and
# every feature sits at their antipode, where cos(pi + m) = -cos(m) beats
# every other logit (-1). Measured on this set: the two-branch quickstart
# reached 27% top-1 by epoch 16, fell to 0.75% in epochs 17-18 (m = 0.25)
# and stayed there, with a loss of 0.38 per branch once m = 0.5 (the
# degenerate value log(1 + 15 exp(-30 (1 - cos 0.5))) = 0.32). ArcFace's own
# fallback past theta + m > pi (`'monotonic'`, MMPretrain's ArcFaceClsHead)
# has no such minimum.
model = dict(
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16, init_cfg=None),
    # s = 30: the value the from-scratch comparison measured (README,
    # Results); the fine-tuning sweep's s = 16 is the real configs' default.
    head=dict(num_classes=16, in_channels=128, scale=30.0,
              overflow='monotonic'))

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=9, k2=18),
]

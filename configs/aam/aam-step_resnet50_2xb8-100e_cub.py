# Table 9: AAM loss, step margin (eq. 52 with eq. 56), ResNet-50 on CUB.
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

custom_hooks = [
    # eq. 56: f(e) = 0 (e <= 30), 0.25 (30 < e <= 60), 0.5 (e > 60)
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=30, k2=60),
]

# Table 9: AAM loss, exponential margin (eq. 54), ResNet-50 on CUB.
# k1, k2, m1, m2 of eq. 56 (the thesis gives no separate values).
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

custom_hooks = [
    # f(e) = 0 (e <= 30), 0.25 exp((e - 30) / 30 - 1) (30 < e <= 60),
    # 0.5 (e > 60)
    dict(type='MarginScheduleHook', schedule='exponential',
         m1=0.25, m2=0.5, k1=30, k2=60),
]

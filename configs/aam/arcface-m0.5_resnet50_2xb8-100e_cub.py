# Table 9: ArcFace, constant margin m = 0.5 (eq. 46), ResNet-50 on CUB.
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200, margin=0.5))

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='constant', margin=0.5),
]

# Table 9: AAM loss, step margin (eq. 52 with eq. 56), ResNet-50 on CUB.
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e_aam-step.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

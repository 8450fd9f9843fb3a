# AAM loss, step margin (eqs. 52, 56), ResNet-50 on FGVC-Aircraft.
_base_ = [
    '../_base_/models/resnet50_aam.py',
    '../_base_/datasets/fgvc_aircraft_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e_aam-step.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=100))

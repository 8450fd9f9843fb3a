# Synthetic, CPU-sized sibling of arcface-m0.5_resnet50_2xb8-100e_cub.py:
# ArcFace, constant margin m = 0.5 (eq. 46); the model, data and schedule of
# the AAM step sibling (16-channel ResNet-18 from scratch, 30 epochs).
_base_ = ['./aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

model = dict(head=dict(margin=0.5))

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='constant', margin=0.5),
]

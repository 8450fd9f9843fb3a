# Thesis Table 8, "AAM loss" row: VGG-16-BN from scratch on CUB-200-2011,
# 224 px, batch 32, 300 epochs, lr 0.1 decayed after epochs 150 and 225,
# step margin of eq. 57.
_base_ = [
    '../_base_/models/vgg16bn_aam.py',
    '../table8/_base_/datasets/cub_bs32_224.py',
    '../_base_/schedules/fgvc_scratch_bs32_300e_aam-step.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

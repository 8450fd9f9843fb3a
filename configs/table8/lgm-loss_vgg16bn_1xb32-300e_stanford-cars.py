# Thesis Table 8 (vgg16bn, from scratch, 224 px, 300 epochs): lgm-loss.
_base_ = [
    './_base_/models/lgm-loss_vgg16bn.py',
    './_base_/datasets/stanford_cars_bs32_224.py',
    '../_base_/schedules/fgvc_scratch_bs32_300e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=196))

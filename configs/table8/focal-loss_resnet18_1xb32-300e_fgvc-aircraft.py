# Thesis Table 8 (resnet18, from scratch, 224 px, 300 epochs): focal-loss.
_base_ = [
    './_base_/models/focal-loss_resnet18.py',
    './_base_/datasets/fgvc_aircraft_bs32_224.py',
    '../_base_/schedules/fgvc_scratch_bs32_300e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=100))

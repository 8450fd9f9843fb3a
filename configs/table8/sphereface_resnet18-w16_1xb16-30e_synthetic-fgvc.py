# CPU sibling of the Table 8 sphereface runs on the embedded synthetic set:
# ResNet-18 at width 16 (128-channel last map), from scratch, 128 px.
_base_ = [
    './_base_/models/sphereface_resnet18.py',
    '../_base_/synthetic_fgvc_cpu_bs16_30e.py',
]

model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    head=dict(num_classes=16, in_channels=128))

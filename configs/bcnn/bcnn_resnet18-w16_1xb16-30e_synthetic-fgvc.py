# CPU sibling on the embedded synthetic set: ResNet-18 at width 16
# (stem/base channels 16, 128-channel last map), from scratch, 128 px.
_base_ = [
    '../_base_/models/bcnn_vgg16.py',
    '../_base_/synthetic_fgvc_cpu_bs16_30e.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(3, )),
    head=dict(num_classes=16, in_channels=128 * 128))

# CPU sibling of the compact bilinear B-CNN (d = 2048) on the synthetic set.
_base_ = ['./bcnn_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

model = dict(
    neck=dict(
        _delete_=True,
        type='CompactBilinearPooling',
        in_channels=128,
        output_dim=2048,
        seed=0),
    head=dict(in_channels=2048))

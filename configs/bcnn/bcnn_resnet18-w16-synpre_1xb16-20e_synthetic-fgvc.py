# B-CNN, fine-tuned: bilinear pooling on the synthetic pretrained 16-channel
# ResNet-18, the thesis's fine-tuning recipe scaled to 20 epochs (Table 7
# analog of bcnn_vgg16_2xb8-100e_cub.py).
_base_ = [
    '../_base_/models/bcnn_vgg16.py',
    '../_base_/synthetic_fgvc_synpre_bs16_20e.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(3, ),
        init_cfg=dict(
            type='Pretrained', checkpoint={{_base_.pretrained}},
            prefix='backbone')),
    head=dict(num_classes=16, in_channels=128 * 128))

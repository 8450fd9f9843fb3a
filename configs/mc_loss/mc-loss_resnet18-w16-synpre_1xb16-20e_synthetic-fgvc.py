# MC-loss, fine-tuned: the synthetic pretrained 16-channel ResNet-18 and the
# thesis's fine-tuning recipe scaled to 20 epochs (Table 7 analog of
# mc-loss_resnet50_2xb8-100e_cub.py).
_base_ = [
    '../_base_/models/mc_loss_ours_resnet50.py',
    '../_base_/synthetic_fgvc_synpre_bs16_20e.py',
]

model = dict(
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16,
        init_cfg=dict(
            type='Pretrained', checkpoint={{_base_.pretrained}},
            prefix='backbone')),
    head=dict(num_classes=16, in_channels=128))

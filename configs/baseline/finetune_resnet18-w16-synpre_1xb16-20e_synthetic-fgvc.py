# Softmax baseline, fine-tuned: the 16-channel ResNet-18 pretrained on the
# synthetic pretraining set (configs/pretrain/, made by
# tools/analysis_tools/pretrain_synthetic.py), fine-tuned on the default
# synthetic set with the thesis's recipe scaled to 20 epochs (Table 7
# analog of finetune_resnet50_2xb8-100e_cub.py).
_base_ = [
    '../_base_/models/resnet50_linear.py',
    '../_base_/synthetic_fgvc_synpre_bs16_20e.py',
]

model = dict(
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16,
        init_cfg=dict(
            type='Pretrained', checkpoint={{_base_.pretrained}},
            prefix='backbone')),
    head=dict(num_classes=16, in_channels=128))

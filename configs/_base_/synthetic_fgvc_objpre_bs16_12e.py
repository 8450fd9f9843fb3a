# What the mechanism study's fine-tuning configs (configs/mechanism/)
# share: the embedded synthetic fine-grained set (16 bird classes, 128 px)
# read at a 96 px input (synthetic_fgvc_bs16_96.py: resize 108, random /
# centre crop 96, the pretraining's), the thesis's fine-tuning recipe
# scaled to 12 epochs, the runtime, and the checkpoint of the
# object-centric pretraining (configs/pretrain/softmax_resnet18-w16-s3_
# 1xb32-15e_synthetic-objects-pretrain.py, made by
# tools/analysis_tools/pretrain_synthetic.py --objects), read as
# _base_.pretrained by the configs' model.
_base_ = [
    './models/resnet18-w16-s3_gap.py',
    './datasets/synthetic_fgvc_bs16_96.py',
    './schedules/synthetic_finetune_bs16_12e.py',
    './default_runtime.py',
]

pretrained = 'work_dirs/pretrained/resnet18-w16-s3_synthetic-objects-pretrain.pth'  # noqa: E501
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

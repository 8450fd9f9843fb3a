# MC-loss, fine-tuned: the synthetic pretrained 16-channel ResNet-18 and the
# thesis's fine-tuning recipe scaled to 20 epochs (Table 7 analog of
# mc-loss_resnet50_2xb8-100e_cub.py).
_base_ = [
    '../_base_/models/mc_loss_ours_resnet50.py',
    '../_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../_base_/schedules/synthetic_finetune_bs16_20e.py',
    '../_base_/default_runtime.py',
]

pretrained = 'work_dirs/pretrained/resnet18-w16_synthetic-fgvc-pretrain.pth'  # noqa: E501
num_classes = 16  # the generator's default
model = dict(
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    head=dict(num_classes=num_classes, in_channels=128, topk=(1, 5)))
data_preprocessor = dict(num_classes=num_classes)

# OUR MC-loss variant, ResNet-50, ImageNet-pretrained, 448 px: the
# thesis's fine-tuning recipe (section 3, batch 16 = 2 GPUs x 8) with a 1x1
# conv-BN-ReLU reducing 2048 -> K x 3 channels. NOT the official recipe of
# the Table 7 row "MC-Loss" (that is mc-loss_resnet50_2xb32-300e_*.py);
# see configs/mc_loss/README.md.
_base_ = [
    '../_base_/models/mc_loss_ours_resnet50_in1k-pre.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

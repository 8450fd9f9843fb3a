# Simplified MA-CNN (ours, after Zheng et al. 2017), VGG-19, ImageNet-
# pretrained, 448 px, 4 parts: learned channel grouping trained end to end,
# parts pooled from the same backbone (no part-CNN on crops). It does NOT
# reproduce the paper's 86.5 / 89.9 / 92.8; see configs/ma_cnn/README.md.
# Recipe: thesis fine-tuning (section 3), batch 16 = 2 GPUs x 8.
_base_ = [
    '../_base_/models/ma_cnn_vgg19_in1k-pre.py',
    '../_base_/datasets/cub_bs8_448.py',
    '../_base_/schedules/fgvc_finetune_bs16_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

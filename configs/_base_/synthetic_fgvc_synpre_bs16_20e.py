# What the fine-tuning siblings on the embedded synthetic set share: its
# data (16 classes, 128 px), the thesis's fine-tuning recipe scaled to 20
# epochs, the runtime and the backbone checkpoint pretrained on the
# synthetic pretraining set (tools/analysis_tools/pretrain_synthetic.py).
# A sibling lists its model base before this file and sets the backbone
# width, its Pretrained init_cfg (the checkpoint `pretrained` below, read as
# _base_.pretrained) and the head's num_classes / in_channels; this file
# cannot (only one base may define `model`).
_base_ = [
    './datasets/synthetic_fgvc_bs16_128.py',
    './schedules/synthetic_finetune_bs16_20e.py',
    './default_runtime.py',
]

pretrained = 'work_dirs/pretrained/resnet18-w16_synthetic-fgvc-pretrain.pth'
num_classes = 16  # the generator's default

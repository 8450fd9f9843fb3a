# Thesis Table 8 (vgg16bn, from scratch, 224 px, 300 epochs): mc-loss on
# the official script's recipe (CUB-200-2011.py at commit 1c1ff52 of
# github.com/PRIS-CV/Mutual-Channel-Loss; see configs/table8/README.md).
_base_ = [
    './_base_/models/mc-loss_vgg16bn.py',
    './_base_/datasets/stanford_cars_bs32_224.py',
    './_base_/schedules/mc-loss_scratch_bs32_300e.py',
    '../_base_/default_runtime.py',
]

num_classes = 196
# conv4_3 and conv5_3 output num_classes x 3 channels (official: 600).
model = dict(
    backbone=dict(last_conv_channels=(None, None, None, num_classes * 3,
                                      num_classes * 3)),
    head=dict(num_classes=num_classes, in_channels=num_classes * 3))
# Official: inputs normalised with mean = std = 0.5 (lines 38, 44).
data_preprocessor = dict(
    num_classes=num_classes, mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])

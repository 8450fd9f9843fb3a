# Thesis Table 8 (resnet18, from scratch, 224 px, 300 epochs): mc-loss on
# the official script's recipe (CUB-200-2011_ResNet18.py at commit 213af45
# of github.com/PRIS-CV/Mutual-Channel-Loss; see configs/table8/README.md).
_base_ = [
    './_base_/models/mc-loss_resnet18.py',
    './_base_/datasets/fgvc_aircraft_bs32_224.py',
    './_base_/schedules/mc-loss_scratch_bs32_300e.py',
    '../_base_/default_runtime.py',
]

num_classes = 100
# The last stage outputs num_classes x 3 channels (official: 200 x 3 = 600).
model = dict(
    backbone=dict(last_stage_channels=num_classes * 3),
    head=dict(num_classes=num_classes, in_channels=num_classes * 3))
# Official: inputs normalised with mean = std = 0.5 (lines 39, 45).
data_preprocessor = dict(
    num_classes=num_classes, mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])

# MC-loss (Chang et al. 2020), ResNet-50, ImageNet-pretrained, 448 px, on
# the official script's recipe (thesis Table 7 row "MC-Loss"; the script,
# MC_ResNet50.py at commit 9e495cc of github.com/PRIS-CV/Mutual-Channel-Loss,
# is for CUB; other data sets reuse it with their class count).
# Batch 64 = 2 GPUs x 32 (the script: 2 GPUs, DataParallel, line 86).
_base_ = [
    '../_base_/models/mc_loss_resnet50_official_in1k-pre.py',
    '../_base_/datasets/fgvc_aircraft_bs8_448.py',
    '../_base_/schedules/mc_loss_official_bs64_300e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=100))
# Resize to 600 x 600, random crop 448, flip; test: centre crop 448 (as the
# base), normalised with mean = std = 0.5 (lines 69-82).
data_preprocessor = dict(
    num_classes=100, mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader

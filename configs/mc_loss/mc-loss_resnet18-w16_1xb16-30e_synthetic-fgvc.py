# CPU sibling on the embedded synthetic set: ResNet-18 at width 16
# (stem/base channels 16, 128-channel last map), from scratch, 128 px.
_base_ = [
    '../_base_/models/mc_loss_ours_resnet50.py',
    '../_base_/datasets/synthetic_fgvc_bs16_128.py',
    '../_base_/schedules/synthetic_cpu_bs16_30e.py',
    '../_base_/default_runtime.py',
]

num_classes = 16  # the generator's default
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    head=dict(num_classes=num_classes, in_channels=128, topk=(1, 5)))
data_preprocessor = dict(num_classes=num_classes)

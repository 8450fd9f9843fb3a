# The reference B-CNN recipe (github.com/HaoMood/bilinear-cnn, commit
# bcc2883, README.txt "USAGE"): batch 64, SGD momentum 0.9, the learning
# rate divided by 10 when the test accuracy has not improved by 1e-4
# (relative) for 3 epochs (ReduceLROnPlateau(mode='max', factor=0.1,
# patience=3, threshold=1e-4): src/bilinear_cnn_fc.py lines 117-122,
# src/bilinear_cnn_all.py lines 111-116).
# Stage 1 (these values): the classifier alone, backbone frozen, lr 1.0,
# weight decay 1e-8, 55 epochs. Stage 2 (the -all config) overrides: every
# layer, lr 0.01, weight decay 1e-5, 25 epochs.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1.0, momentum=0.9, weight_decay=1e-8))

param_scheduler = dict(
    type='ReduceOnPlateauLR',
    monitor='accuracy/top1',
    rule='greater',
    factor=0.1,
    patience=3,
    threshold=1e-4,
    by_epoch=True)

# Validation every epoch: the plateau rule reads its accuracy.
train_cfg = dict(by_epoch=True, max_epochs=55, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# No method hook (see fgvc_finetune_bs16_100e.py).
custom_hooks = []

auto_scale_lr = dict(base_batch_size=64)

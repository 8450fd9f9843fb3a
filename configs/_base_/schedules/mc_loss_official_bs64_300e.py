# The official MC-loss ResNet-50 schedule (MC_ResNet50.py, commit 9e495cc):
# SGD momentum 0.9, weight decay 5e-4 (line 348), batch 64 (line 86),
# 300 epochs (line 36); lr 0.1 for the classifier and 0.01 for the backbone
# (lines 343-348), both cosine-annealed per epoch to 0
# (cosine_anneal_schedule, lines 331-335, 352-353). Differences: the
# official curve is evaluated at epoch t = 1..300 (ours at 0..299) and its
# last epoch jumps back to lr 0.1 (t % 300 = 0); we keep mmengine's curve.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))

param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=300, eta_min=0.0)

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# No method hook (see fgvc_finetune_bs16_100e.py).
custom_hooks = []

auto_scale_lr = dict(base_batch_size=64)

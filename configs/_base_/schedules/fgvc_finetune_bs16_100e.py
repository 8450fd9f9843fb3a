# Thesis fine-tuning recipe (chapter 4, Table 7 / Table 9 runs):
# SGD momentum 0.9, weight decay 1e-4, batch 16 in total, 100 epochs;
# lr 0.001 for the backbone (and neck) and 0.01 for the classifier head,
# decayed by 0.1 after epoch 60 for the backbone and after epochs 50 and 75
# for the head (milestone k = "from epoch k + 1 on", as in MultiStepLR).
# The two param groups are built (and named) by
# NamedGroupOptimWrapperConstructor: every parameter whose name contains
# 'head' goes to group 'head', the rest to group 'backbone'.
optim_wrapper = dict(
    constructor='NamedGroupOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        default_group='backbone',
        custom_keys={'head': dict(lr_mult=10.0, name='head')}))

param_scheduler = dict(
    type='GroupMultiStepLR',
    by_epoch=True,
    gamma=0.1,
    milestones=dict(backbone=[60], head=[50, 75]))

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# No method hook: method configs set their own (e.g. MarginScheduleHook).
# The safety hooks (NonFiniteLossHook, ...) are default_hooks of
# default_runtime.py, which no custom_hooks list can drop.
custom_hooks = []

# The lrs above are for a total batch of 16 (2 GPUs x 8 or 8 x 2); enable
# with `--auto-scale-lr` for another total batch size.
auto_scale_lr = dict(base_batch_size=16)

# Thesis from-scratch recipe (chapter 4, Table 8 runs; VGG-16 / ResNet-18
# at 224 px): SGD momentum 0.9, lr 0.1 for all parameters, decayed by 0.1
# after epochs 150 and 225, 300 epochs, batch 32 in total.
# Weight decay is not stated for these runs; 1e-4 as in fine-tuning.
# The AAM margin for these runs is eq. 57: fgvc_scratch_bs32_300e_aam-step.py.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))

param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 225], gamma=0.1)

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# No method hook (see fgvc_finetune_bs16_100e.py).
custom_hooks = []

auto_scale_lr = dict(base_batch_size=32)

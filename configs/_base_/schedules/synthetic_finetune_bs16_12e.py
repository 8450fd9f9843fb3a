# The thesis's fine-tuning recipe (fgvc_finetune_bs16_100e.py: SGD momentum
# 0.9, weight decay 1e-4, batch 16, head lr = 10 x backbone lr, backbone
# decayed by 0.1 at 60% of the epochs, head at 50% and 75%, no warm-up)
# scaled to the mechanism study's 12 epochs: backbone lr 0.005 decayed after
# epoch 7, head lr 0.05 after epochs 6 and 9. 0.005 is the synthetic
# fine-tuning family's base (synthetic_finetune_bs16_20e.py); the study
# selects each loss's lr from x1/4, x1/2, x1, x2 of it on validation
# (configs/mechanism/README.md).
_base_ = './fgvc_finetune_bs16_100e.py'

optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = dict(milestones=dict(backbone=[7], head=[6, 9]))
train_cfg = dict(max_epochs=12, val_interval=12)

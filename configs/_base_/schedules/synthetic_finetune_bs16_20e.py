# The thesis's fine-tuning recipe (fgvc_finetune_bs16_100e.py: SGD momentum
# 0.9, weight decay 1e-4, batch 16, head lr = 10 x backbone lr, backbone
# decayed by 0.1 at 60% of the epochs, head at 50% and 75%) scaled to 20
# epochs on the embedded synthetic data: backbone (and neck) lr 0.005
# decayed after epoch 12, head lr 0.05 decayed after epochs 10 and 15. The
# head gets the learning rate calibrated for this data from scratch
# (synthetic_cpu_bs16_30e.py: 0.05), the backbone the thesis's 10x less. No
# warm-up, as in the thesis. The margin configs step their margin at 30% and
# 60% (k1 = 6, k2 = 12).
_base_ = './fgvc_finetune_bs16_100e.py'

optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = dict(milestones=dict(backbone=[12], head=[10, 15]))
train_cfg = dict(max_epochs=20)

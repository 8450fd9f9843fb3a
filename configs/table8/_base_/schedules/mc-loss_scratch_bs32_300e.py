# The thesis's from-scratch schedule (fgvc_scratch_bs32_300e.py: SGD lr
# 0.1 -> 0.01 (epoch 150) -> 0.001 (epoch 225), 300 epochs, batch 32) with
# the weight decay of the official MC-loss from-scratch scripts, 5e-4
# (CUB-200-2011.py line 269, CUB-200-2011_ResNet18.py line 384; both also
# use lr 0.1 -> 0.01 -> 0.001 and batch 32).
_base_ = ['../../../_base_/schedules/fgvc_scratch_bs32_300e.py']

optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))

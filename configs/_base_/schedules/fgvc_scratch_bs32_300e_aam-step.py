# The from-scratch recipe (fgvc_scratch_bs32_300e.py) with the AAM loss's
# step margin of eq. 57, which MarginScheduleHook sets before every epoch:
# the Table 8 "AAM loss" row (configs/aam/aam-step_*_1xb32-300e_*.py).
_base_ = ['./fgvc_scratch_bs32_300e.py']

custom_hooks = [
    # eq. 57: f(e) = 0 (e <= 175), 0.25 (175 < e <= 250), 0.5 (e > 250)
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=175, k2=250),
]

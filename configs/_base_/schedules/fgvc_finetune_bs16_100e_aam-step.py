# The fine-tuning recipe (fgvc_finetune_bs16_100e.py) with the AAM loss's
# step margin (eq. 52 with eq. 56), which MarginScheduleHook sets before
# every epoch: the real-data aam-step configs of Tables 7 and 9
# (configs/aam, configs/two_branch).
_base_ = ['./fgvc_finetune_bs16_100e.py']

custom_hooks = [
    # eq. 56: f(e) = 0 (e <= 30), 0.25 (30 < e <= 60), 0.5 (e > 60)
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=30, k2=60),
]

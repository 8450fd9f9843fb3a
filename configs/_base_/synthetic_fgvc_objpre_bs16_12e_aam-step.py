# synthetic_fgvc_objpre_bs16_12e.py (what the mechanism study's fine-tuning
# configs share) with the AAM head (eq. 51) and the step margin (eq. 52):
# m = 0.25 from 30% of the 12 epochs (k1 = 4), 0.5 from 60% (k2 = 7). The
# study's AAM rows (configs/mechanism/*aam-step*) and the quickstart.
_base_ = ['./synthetic_fgvc_objpre_bs16_12e.py']

model = dict(
    head=dict(
        type='AngularMarginHead',
        num_classes=16,
        in_channels=64,
        scale=30.0,
        margin=0.0,  # the hook sets f(e) before every epoch
        overflow='monotonic',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=None))
custom_hooks = [
    dict(type='MarginScheduleHook', schedule='step',
         m1=0.25, m2=0.5, k1=4, k2=7),
]

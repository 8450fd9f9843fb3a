# Synthetic, CPU-sized sibling of aam-linear_resnet50_2xb8-100e_cub.py: AAM,
# linear margin (eq. 53); the model, data and schedule of the step sibling,
# with the same milestones (k1=9, k2=18 of 30 epochs).
_base_ = ['./aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='linear',
         m1=0.25, m2=0.5, k1=9, k2=18),
]

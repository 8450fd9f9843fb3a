# AAM, linear margin, fine-tuned (Table 9 analog): the fine-tuned AAM step
# sibling with the linear schedule between k1 = 6 and k2 = 12.
_base_ = ['./aam-step_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py']

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='linear',
         m1=0.25, m2=0.5, k1=6, k2=12),
]

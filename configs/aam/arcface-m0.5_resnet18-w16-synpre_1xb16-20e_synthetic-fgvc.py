# ArcFace, constant margin m = 0.5 (eq. 46), fine-tuned (Table 9 analog):
# the model, data and schedule of the fine-tuned AAM step sibling.
_base_ = ['./aam-step_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py']

model = dict(head=dict(margin=0.5))

custom_hooks = [
    dict(type='MarginScheduleHook', schedule='constant', margin=0.5),
]

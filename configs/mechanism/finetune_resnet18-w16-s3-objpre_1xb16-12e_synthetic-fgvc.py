# Mechanism study, row "single-branch softmax": the object-pretrained
# three-stage ResNet-18-w16 (12x12 map at 96 px) + GAP + linear softmax,
# fine-tuned for 12 epochs with the thesis's recipe. See README.md here.
_base_ = ['../_base_/synthetic_fgvc_objpre_bs16_12e.py']

model = dict(
    head=dict(
        type='LinearClsHead',
        num_classes=16,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

# Thesis Table 8, from scratch: LMCL / CosFace (Wang et al. 2018): s = 64, m
# = 0.35.
_base_ = ['../../../_base_/models/resnet18_gap.py']

model = dict(
    head=dict(
        type='CosFaceHead',
        num_classes=200,
        in_channels=512,
        scale=64.0,
        margin=0.35,
        topk=(1, 5)))

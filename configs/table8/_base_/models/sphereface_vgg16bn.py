# Thesis Table 8, from scratch: A-Softmax / SphereFace (Liu et al. 2017), m =
# 4 with the official lambda annealing.
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    head=dict(
        type='SphereFaceHead',
        num_classes=200,
        in_channels=512,
        margin=4,
        lambda_base=1000.0,
        lambda_gamma=0.12,
        lambda_power=1.0,
        lambda_min=5.0,
        topk=(1, 5)))

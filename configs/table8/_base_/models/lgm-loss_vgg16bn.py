# Thesis Table 8, from scratch: L-GM loss (Wan et al. 2018): Gaussian-mixture
# logits with margin alpha = 0.1 and likelihood weight lambda = 0.01.
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    head=dict(
        type='LGMHead',
        num_classes=200,
        in_channels=512,
        margin=0.1,
        lambda_lkd=0.01,
        topk=(1, 5)))

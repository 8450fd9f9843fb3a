# Thesis Table 8, from scratch: COCO loss (Liu et al. 2017): scaled cosine
# softmax to learnable normalised centroids, alpha = 16.
_base_ = ['../../../_base_/models/vgg16bn_gap.py']

model = dict(
    head=dict(
        type='COCOHead',
        num_classes=200,
        in_channels=512,
        scale=16.0,
        topk=(1, 5)))

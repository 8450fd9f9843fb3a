# B-CNN (Lin et al. 2015), symmetric: VGG-16 conv5_3 (after ReLU, no pool5)
# -> bilinear pooling (512 x 512 = 262,144 dims) -> signed sqrt -> L2 norm
# -> linear classifier. Registry names: BilinearPooling (neck).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VGG', depth=16, num_classes=-1, out_indices=(4, ),
        with_last_pool=False),
    neck=dict(type='BilinearPooling', eps=1e-5),
    head=dict(
        type='LinearClsHead',
        num_classes=200,
        in_channels=512 * 512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))

# ResNet-50 + global average pooling: the one backbone definition of the
# ResNet-50 model bases (random init here; *_in1k-pre.py and resnet50_aam.py
# load the ImageNet-1k weights). No head: the including model base adds the
# method's (2048 input channels); bases without the pooling set neck=None.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'))

# ResNet-18 (from scratch) + global average pooling: the one backbone
# definition of the Table 8 ResNet-18 runs. No head: the including model
# base adds the method's (512 input channels; 128 at width 16).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'))

# The thesis model with ResNet-101 on FGVC-Aircraft (Table 7, "thesis
# ResNet-101"): the ResNet-50 model of the data set with another backbone.
_base_ = ['./_base_/two-branch-aam-step_resnet50_fgvc-aircraft.py']

pretrained = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet101_8xb32_in1k_20210831-539c63f8.pth'  # noqa: E501

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

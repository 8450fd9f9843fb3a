# mc_loss_ours_resnet50.py with its backbone initialised from the ImageNet-1k
# classifier of MMPretrain's model zoo (ResNet-50): the real-data fine-tuning
# configs start from it.
_base_ = ['./mc_loss_ours_resnet50.py']

pretrained = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

# bcnn_vgg16.py with its backbone initialised from the ImageNet-1k
# classifier of MMPretrain's model zoo (VGG-16): the real-data fine-tuning
# configs start from it.
_base_ = ['./bcnn_vgg16.py']

pretrained = 'https://download.openmmlab.com/mmclassification/v0/vgg/vgg16_batch256_imagenet_20210208-db26f1a5.pth'  # noqa: E501
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

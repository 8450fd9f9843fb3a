# ma_cnn_vgg19.py with its backbone initialised from the ImageNet-1k
# classifier of MMPretrain's model zoo (VGG-19): the real-data fine-tuning
# configs start from it.
_base_ = ['./ma_cnn_vgg19.py']

pretrained = 'https://download.openmmlab.com/mmclassification/v0/vgg/vgg19_batch256_imagenet_20210208-e6920e4a.pth'  # noqa: E501
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')))

# Stage 1 of the reference B-CNN recipe (github.com/HaoMood/bilinear-cnn,
# commit bcc2883, src/bilinear_cnn_fc.py): the ImageNet-pretrained B-CNN
# of bcnn_vgg16_in1k-pre.py with VGG-16 frozen and the classifier
# initialised as the reference's.
_base_ = ['../../../_base_/models/bcnn_vgg16_in1k-pre.py']

model = dict(
    backbone=dict(frozen_stages=5),  # conv1_1 ... conv5_3 (lines 57-59)
    head=dict(
        # torch.nn.init.kaiming_normal on the fc weight, bias 0 (lines 61-63)
        init_cfg=dict(
            type='Kaiming', layer='Linear', mode='fan_in',
            distribution='normal', bias=0.0)))

# 8 GPUs x 2 images = the thesis's total batch of 16 with its learning
# rates: the 2xb8 config of the same name, which this inherits (changes
# there flow through). With 2 images per GPU plain BatchNorm would
# normalise 2 images per branch, so the backbone uses SyncBN (statistics
# over all GPUs; the GAP neck and the head have no norm layer). Run:
#   bash tools/dist_train.sh configs/aam/aam-step_resnet50_8xb2-100e_cub.py 8  # noqa: E501
_base_ = ['./aam-step_resnet50_2xb8-100e_cub.py']

model = dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)))
train_dataloader = dict(batch_size=2)

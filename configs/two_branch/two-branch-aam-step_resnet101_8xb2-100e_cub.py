# two-branch-aam-step_resnet101_8xb2-100e_cub: 8 GPUs x 2 images = the thesis's total batch of 16 with its
# learning rates (those of two-branch-aam-step_resnet101_2xb8-100e_cub.py, which this inherits: any change
# there flows through). With 2 images per GPU, plain BatchNorm would
# normalise 2 images per branch: the backbone uses SyncBN (statistics over
# all 8 GPUs; the GAP neck and the head have no norm layer).
#   bash tools/dist_train.sh configs/two_branch/two-branch-aam-step_resnet101_8xb2-100e_cub.py 8
_base_ = ['./two-branch-aam-step_resnet101_2xb8-100e_cub.py']

model = dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)))
train_dataloader = dict(batch_size=2)

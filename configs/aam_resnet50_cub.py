# The thesis's full model on CUB-200-2011 (two-branch + AAM step, ResNet-50).
# For 2 GPUs (2 x 8 = batch 16): bash tools/dist_train.sh configs/aam_resnet50_cub.py 2  # noqa: E501
# For 8 GPUs use the 8xb2 sibling (batch 8 x 2 = 16, SyncBN):
#   bash tools/dist_train.sh configs/two_branch/two-branch-aam-step_resnet50_8xb2-100e_cub.py 8  # noqa: E501
_base_ = './two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py'

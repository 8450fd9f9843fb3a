# The thesis's full model on Stanford Cars (two-branch + AAM step, ResNet-50).
# The thesis's recipe on 8 GPUs: 8 x 2 images = its total batch of 16, its
# learning rates, SyncBN in the backbone (2 images per GPU would leave plain
# BatchNorm 2 images per branch):
#   bash tools/dist_train.sh configs/aam_resnet50_stanford-cars.py 8
# On 2 GPUs use the 2 x 8 config instead (same recipe, plain BatchNorm):
#   bash tools/dist_train.sh configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_stanford-cars.py 2  # noqa: E501
_base_ = './two_branch/two-branch-aam-step_resnet50_8xb2-100e_stanford-cars.py'

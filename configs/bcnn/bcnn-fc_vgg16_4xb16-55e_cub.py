# B-CNN (Lin et al. 2015), VGG-16, ImageNet-pretrained, 448 px, reference
# recipe stage 1 of 2 (github.com/HaoMood/bilinear-cnn, commit bcc2883,
# src/bilinear_cnn_fc.py): the classifier alone, VGG-16 frozen, lr 1.0,
# weight decay 1e-8, 55 epochs, batch 64 = 4 GPUs x 16 (the reference ran
# DataParallel on 4 GPUs). Stage 2 is bcnn-all_vgg16_4xb16-25e_cub.py,
# which loads this run's last checkpoint.
_base_ = [
    './_base_/models/bcnn-fc_vgg16.py',
    './_base_/datasets/cub_bs16_448.py',
    '../_base_/schedules/bcnn_two_stage_bs64.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=200))

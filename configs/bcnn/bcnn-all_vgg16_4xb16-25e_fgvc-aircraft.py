# B-CNN (Lin et al. 2015), VGG-16, 448 px, reference recipe stage 2 of 2
# (github.com/HaoMood/bilinear-cnn, commit bcc2883,
# src/bilinear_cnn_all.py): every layer trained, lr 0.01, weight decay 1e-5,
# 25 epochs, batch 64 = 4 GPUs x 16, starting from stage 1
# (bcnn-fc_vgg16_4xb16-55e_fgvc-aircraft.py). Train stage 1 first, then:
#   bash tools/dist_train.sh configs/bcnn/bcnn-all_vgg16_4xb16-25e_fgvc-aircraft.py 4  # noqa: E501
# (or --cfg-options load_from=<another stage-1 checkpoint>).
_base_ = ['./bcnn-fc_vgg16_4xb16-55e_fgvc-aircraft.py']

load_from = 'work_dirs/bcnn-fc_vgg16_4xb16-55e_fgvc-aircraft/epoch_55.pth'
model = dict(
    backbone=dict(frozen_stages=-1, init_cfg=None),  # weights: load_from
    head=dict(init_cfg=None))
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=1e-5))
train_cfg = dict(max_epochs=25)

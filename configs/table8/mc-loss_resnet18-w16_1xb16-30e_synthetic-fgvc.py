# CPU sibling of the Table 8 mc-loss runs on the embedded synthetic set: the
# same model and recipe as the MC-loss folder's synthetic sibling (our
# variant layout: ResNet-18 at width 16, 1x1 reduction to 16 x 3 channels,
# 128 px; see configs/mc_loss/README.md).
_base_ = ['../mc_loss/mc-loss_resnet18-w16_1xb16-30e_synthetic-fgvc.py']

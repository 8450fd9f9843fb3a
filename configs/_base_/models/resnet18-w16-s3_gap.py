# The backbone of the mechanism study: the first three stages of a ResNet-18
# with 16 base channels (stem 16, stages 16 / 32 / 64), strides 1, 2, 1, so
# that a 96 px input gives a 12x12 map of 64 channels at stride 8 (the
# thesis: 14x14 at 448 px / 32). The same backbone and strides serve the
# pretraining, the single-branch and the two-branch rows. It costs less
# than the four-stage ResNet-18-w16 at stride 16 (6x6 map) of the earlier
# synthetic configs: 707 against 606 images/s (forward + backward, batch 16,
# 2 threads, AMD EPYC), where the four stages at stride 8 (12x12) give 324.
# No head: the including model base adds the method's (64 input channels).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=3,
        strides=(1, 2, 1),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        # PyTorch's default init of the residual branches: with
        # MMPretrain's zero_init_residual=True this small network trained
        # from scratch on 7,200 images stayed near chance for 4-5 epochs
        # where it otherwise learns (the pretraining; fine-tuning loads it)
        zero_init_residual=False,
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'))

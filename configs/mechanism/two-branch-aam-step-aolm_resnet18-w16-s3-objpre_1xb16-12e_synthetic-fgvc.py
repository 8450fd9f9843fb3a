# Mechanism study, step 6 (exploratory): the thesis model with MMAL-Net's
# AOLM box rule (Zhang et al. 2021), the related localizer the thesis's
# method names: the mean-threshold mask of the last map (layer 3) is
# intersected with the mean-threshold mask of layer 2 (both 12x12 here)
# before the largest component is taken. Everything else as the thesis row.
_base_ = ['./two-branch-aam-step_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']  # noqa: E501

model = dict(
    backbone=dict(out_indices=(1, 2)),
    localizer=dict(in_index=-1, prev_in_index=0))

# Box-source ablation: the thesis model
# (two-branch-aam-step_resnet50_2xb8-100e_cub.py, inherited unchanged) with
# the object branch cropping CUB's ground-truth box jittered to IoU 0.5 with
# it (deterministic per image), in training and at test time: a box source
# exactly at the CorLoc threshold. Reads the labels' boxes at test time, so
# it is a reference point, not a method.
_base_ = ['./two-branch-aam-step_resnet50_2xb8-100e_cub.py']

model = dict(
    localizer=dict(
        _delete_=True, type='JitteredBoxLocalizer', target_iou=0.5, seed=0))

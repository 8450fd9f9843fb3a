# Box-source ablation, upper bound: the thesis model
# (two-branch-aam-step_resnet50_2xb8-100e_cub.py, inherited unchanged) with
# the object branch cropping CUB's ground-truth box instead of the
# channel-aggregation box, in training and at test time. Not a method (it
# reads the labels' boxes at test time); it bounds what a perfect localizer
# could add. LocalizationMetric then scores 100 % CorLoc by construction.
_base_ = ['./two-branch-aam-step_resnet50_2xb8-100e_cub.py']

model = dict(localizer=dict(_delete_=True, type='GroundTruthBoxLocalizer'))

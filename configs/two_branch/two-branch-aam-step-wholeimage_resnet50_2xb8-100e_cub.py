# Box-source ablation: the thesis model
# (two-branch-aam-step_resnet50_2xb8-100e_cub.py, inherited unchanged) with
# the whole input as the "object": two passes of the same image, no crop,
# so L_raw + L_object counts the same loss twice. Isolates what the doubled
# loss (and the summed logits) give without any localization.
_base_ = ['./two-branch-aam-step_resnet50_2xb8-100e_cub.py']

model = dict(localizer=dict(_delete_=True, type='WholeImageLocalizer'))

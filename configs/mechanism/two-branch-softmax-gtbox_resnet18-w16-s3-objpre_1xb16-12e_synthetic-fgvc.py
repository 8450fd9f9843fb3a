# Mechanism study, box-source ablation: two-branch softmax whose object
# branch crops the ground-truth box (the upper bound of any localizer).
_base_ = ['./two-branch-softmax_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']  # noqa: E501

model = dict(localizer=dict(_delete_=True, type='GroundTruthBoxLocalizer'))

# Mechanism study, box-source ablation: two-branch softmax whose object
# branch crops the ground-truth box jittered to IoU 0.5 with it (a box of
# known, mediocre quality: the CorLoc threshold).
_base_ = ['./two-branch-softmax_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']  # noqa: E501

model = dict(
    localizer=dict(
        _delete_=True, type='JitteredBoxLocalizer', target_iou=0.5, seed=0))

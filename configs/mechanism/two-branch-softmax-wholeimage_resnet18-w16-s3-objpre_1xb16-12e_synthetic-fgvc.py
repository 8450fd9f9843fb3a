# Mechanism study, box-source ablation: two-branch softmax whose "object"
# is the whole image (two passes of the same image, no crop): isolates the
# doubled loss L_raw + L_object from the crop.
_base_ = ['./two-branch-softmax_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py']  # noqa: E501

model = dict(localizer=dict(_delete_=True, type='WholeImageLocalizer'))

# The thesis model (two-branch + AAM step margin, eqs. 55-56) with
# ResNet-50 on FGVC-Aircraft (Table 7). LocalizationMetric reports only when
# the data set packs `gt_bboxes` (it returns {} otherwise).
_base_ = ['./_base_/two-branch-aam-step_resnet50_fgvc-aircraft.py']

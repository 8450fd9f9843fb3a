# The thesis model (Table 7, "thesis ResNet-50" on CUB): the two-level
# (raw + object) classifier with one shared ResNet-50, the channel-
# aggregation localizer (eqs. 47-48, 8-connectivity) and the AAM loss with
# the step margin of eq. 56, trained with the fine-tuning recipe of chapter
# 4. Loss L_raw + L_object (eq. 55). Test output: sum of the two branches'
# logits (the best of raw / object / sum on the synthetic set).
_base_ = ['./_base_/two-branch-aam-step_resnet50_cub.py']

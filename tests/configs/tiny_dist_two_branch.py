# The two-branch (raw + object, shared GroupNorm backbone) twin of
# tiny_dist_single_branch.py; also scores the predicted boxes.
_base_ = ['./tiny_dist_single_branch.py']
model = dict(
    type='TwoBranchClassifier',
    localizer=dict(type='ChannelAggregationLocalizer'),
    test_branch='sum')
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='LocalizationMetric'),
]
test_evaluator = val_evaluator

"""Wrong types / impossible values in our components fail at build time.

Every registered component of ``projects.fgvc_aam`` is built through its
registry (as a config would build it) with one bad argument; the build must
raise ``TypeError`` or ``ValueError`` whose message names that argument
(and, for scalar values, shows the value). A good build of each component
is checked too, so a row cannot pass because the base arguments are wrong.
"""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmpretrain.registry import (HOOKS, METRICS, MODELS,
                                 OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS)

import projects.fgvc_aam  # noqa: F401  (registers everything)

pytestmark = pytest.mark.reliability

NAN, INF = float('nan'), float('inf')

HEAD = dict(num_classes=4, in_channels=8)
TWO_BRANCH = dict(
    type='TwoBranchClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=3, in_channels=64))
OPTIM = dict(optimizer=dict(type='SGD', lr=0.1))


def _optimizer() -> OptimWrapper:
    layer = nn.Linear(2, 2)
    return OptimWrapper(torch.optim.SGD(
        [dict(params=[layer.weight], name='backbone'),
         dict(params=[layer.bias], name='head')], lr=0.1))


def _build_scheduler(cfg):
    return PARAM_SCHEDULERS.build(cfg, default_args=dict(
        optimizer=_optimizer()))


def _build_constructor(cfg):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(cfg)(nn.Linear(2, 2))


BUILDERS = dict(model=MODELS.build, hook=HOOKS.build, metric=METRICS.build,
                scheduler=_build_scheduler, constructor=_build_constructor)

#: component -> (builder, valid base config)
COMPONENTS = {
    'AngularMarginHead': ('model', dict(HEAD)),
    'MarginScheduleHook': ('hook', dict(k1=1, k2=2)),
    'NonFiniteLossHook': ('hook', dict()),
    'EpochSeedHook': ('hook', dict()),
    'GroupMultiStepLR': ('scheduler',
                         dict(milestones=dict(backbone=[2], head=[1, 3]))),
    'NamedGroupOptimWrapperConstructor': (
        'constructor', dict(optim_wrapper_cfg=OPTIM,
                            paramwise_cfg=dict(default_group='backbone'))),
    'ChannelAggregationLocalizer': ('model', dict()),
    'JitteredBoxLocalizer': ('model', dict()),
    'TwoBranchClassifier': ('model', {
        k: v for k, v in TWO_BRANCH.items() if k != 'type'}),
    'LocalizationMetric': ('metric', dict()),
    'MCLossHead': ('model', dict(HEAD)),
    'MutualChannelLoss': ('model', dict(num_classes=4)),
    'BilinearPooling': ('model', dict()),
    'CompactBilinearPooling': ('model', dict(in_channels=8, output_dim=16)),
    'MACNNHead': ('model', dict(HEAD)),
    'ChannelGroupingLoss': ('model', dict()),
    'CenterLossHead': ('model', dict(HEAD)),
    'CenterLoss': ('model', dict(num_classes=4, feat_dim=8)),
    'SphereFaceHead': ('model', dict(HEAD)),
    'CosFaceHead': ('model', dict(HEAD)),
    'COCOHead': ('model', dict(HEAD)),
    'LGMHead': ('model', dict(HEAD)),
    'PairwiseConfusionLoss': ('model', dict()),
    'AtomicCheckpointHook': ('hook', dict(interval=1, max_keep_ckpts=1)),
    'CheckpointFitHook': ('hook', dict()),
    'SoftmaxFocalLoss': ('model', dict()),
    'ResNetLastStage': ('model', dict(depth=18, base_channels=8,
                                      last_stage_channels=12)),
    'VGGLastConv': ('model', dict(depth=11,
                                  last_conv_channels=(None, ) * 4 + (12, ))),
}

#: (component, bad kwargs, text the message must contain)
CASES = [
    # AAM head
    ('AngularMarginHead', dict(num_classes=0), '`num_classes`'),
    ('AngularMarginHead', dict(num_classes='4'), '`num_classes`'),
    ('AngularMarginHead', dict(num_classes=True), '`num_classes`'),
    ('AngularMarginHead', dict(in_channels=-1), '`in_channels`'),
    ('AngularMarginHead', dict(num_subcenters=0), '`num_subcenters`'),
    ('AngularMarginHead', dict(scale=0), '`scale`'),
    ('AngularMarginHead', dict(scale=NAN), '`scale`'),
    ('AngularMarginHead', dict(scale='30'), '`scale`'),
    ('AngularMarginHead', dict(margin=-0.1), '`margin`'),
    ('AngularMarginHead', dict(margin=math.pi), '`margin`'),
    ('AngularMarginHead', dict(margin=NAN), '`margin`'),
    ('AngularMarginHead', dict(margin=[0.1, 0.2, 0.3]), '`margin`'),
    ('AngularMarginHead', dict(margin='abc'), '`margin`'),
    ('AngularMarginHead', dict(overflow='wrap'), '`overflow`'),
    # margin schedule hook
    ('MarginScheduleHook', dict(schedule='cosine'), '`schedule`'),
    ('MarginScheduleHook', dict(m1=-0.1), '`m1`'),
    ('MarginScheduleHook', dict(m1='0.25'), '`m1`'),
    ('MarginScheduleHook', dict(m2=4.0), '`m2`'),
    ('MarginScheduleHook', dict(k1=-1), '`k1`'),
    ('MarginScheduleHook', dict(k2=INF), '`k2`'),
    ('MarginScheduleHook', dict(k1=3, k2=2), '`k1`'),
    ('MarginScheduleHook', dict(margin=0.5), '`margin`'),
    ('MarginScheduleHook', dict(schedule='constant'), '`margin`'),
    ('MarginScheduleHook', dict(by_iter='yes'), '`by_iter`'),
    ('MarginScheduleHook', dict(heads=['']), '`heads`'),
    ('MarginScheduleHook', dict(heads=3), '`heads`'),  # added
    # non-finite loss hook
    ('NonFiniteLossHook', dict(enabled='yes'), '`enabled`'),
    ('NonFiniteLossHook', dict(check_every=0), '`check_every`'),
    ('NonFiniteLossHook', dict(check_every=1.5), '`check_every`'),
    ('EpochSeedHook', dict(diff_rank_seed=1), '`diff_rank_seed`'),
    # checkpoint hooks (issue 13: upstream forwards unknown keys to the save)
    ('AtomicCheckpointHook', dict(max_keep=2), 'max_keep_ckpts'),
    ('CheckpointFitHook', dict(allow_partial='yes'), 'allow_partial'),
    # per-group lr milestones
    ('GroupMultiStepLR', dict(milestones=dict(head=[-1])), '`milestones'),
    ('GroupMultiStepLR', dict(milestones=[1.5]), '`milestones'),
    ('GroupMultiStepLR', dict(milestones='abc'), '`milestones`'),
    ('GroupMultiStepLR', dict(milestones={}), '`milestones`'),
    ('GroupMultiStepLR', dict(milestones=dict(head=[1])), '`milestones`'),
    ('GroupMultiStepLR', dict(milestones=dict(backbone=[1], head=[2],
                                              neck=[3])), '`milestones`'),
    ('GroupMultiStepLR', dict(milestones=[1], gamma=0), '`gamma'),
    ('GroupMultiStepLR', dict(milestones=[1], gamma=dict(head='x')),
     '`gamma'),
    # named param groups
    ('NamedGroupOptimWrapperConstructor',
     dict(paramwise_cfg=dict(default_group='')), 'default_group`'),
    ('NamedGroupOptimWrapperConstructor',
     dict(paramwise_cfg=dict(merge_groups='yes')), 'merge_groups`'),
    ('NamedGroupOptimWrapperConstructor',
     dict(paramwise_cfg=dict(custom_keys={'head': dict(name=3)})),
     '.name`'),
    # localizer and two-branch classifier
    ('ChannelAggregationLocalizer', dict(connectivity=6), '`connectivity`'),
    ('ChannelAggregationLocalizer', dict(connectivity='8'),
     '`connectivity`'),
    ('ChannelAggregationLocalizer', dict(in_index='a'), '`in_index`'),
    ('ChannelAggregationLocalizer', dict(prev_in_index=1.5),
     '`prev_in_index`'),
    ('ChannelAggregationLocalizer', dict(early_exit='x'), '`early_exit`'),
    ('JitteredBoxLocalizer', dict(target_iou=0), '`target_iou`'),
    ('JitteredBoxLocalizer', dict(target_iou=1.5), '`target_iou`'),
    ('JitteredBoxLocalizer', dict(target_iou='0.5'), '`target_iou`'),
    ('JitteredBoxLocalizer', dict(target_iou=NAN), '`target_iou`'),
    ('JitteredBoxLocalizer', dict(seed=-1), '`seed`'),
    ('JitteredBoxLocalizer', dict(seed=1.5), '`seed`'),
    ('TwoBranchClassifier', dict(test_branch='both'), '`test_branch`'),
    ('TwoBranchClassifier', dict(crop_size=0), '`crop_size`'),
    ('TwoBranchClassifier', dict(crop_size=(64, )), '`crop_size`'),
    ('TwoBranchClassifier', dict(crop_size=(64, -1)), '`crop_size`'),
    ('TwoBranchClassifier', dict(crop_size=True), '`crop_size`'),  # added
    ('TwoBranchClassifier', dict(crop_size='64'), '`crop_size`'),  # added
    ('TwoBranchClassifier', dict(localizer=None), '`localizer`'),
    ('TwoBranchClassifier', dict(localizer='abc'), '`localizer`'),  # added
    ('TwoBranchClassifier',
     dict(localizer=dict(type='ChannelAggregationLocalizer',
                         connectivity=5)), '`connectivity`'),
    # metric
    ('LocalizationMetric', dict(iou_thr=0), '`iou_thr`'),
    ('LocalizationMetric', dict(iou_thr=1.5), '`iou_thr`'),
    ('LocalizationMetric', dict(iou_thr='0.5'), '`iou_thr`'),
    ('LocalizationMetric', dict(iou_thr=NAN), '`iou_thr`'),
    # MC-loss
    ('MCLossHead', dict(channels_per_class=0), '`channels_per_class`'),
    ('MCLossHead', dict(num_classes=0), '`num_classes`'),
    ('MCLossHead', dict(in_channels='x'), '`in_channels`'),
    ('MCLossHead', dict(mc_loss=dict(type='MutualChannelLoss',
                                     num_classes=5)), 'num_classes`'),
    ('MutualChannelLoss', dict(num_masked=5), '`num_masked`'),
    ('MutualChannelLoss', dict(weight_dis=-1), '`weight_dis`'),
    ('MutualChannelLoss', dict(weight_div=INF), '`weight_div`'),
    ('MutualChannelLoss', dict(mask_per_sample='no'),
     '`mask_per_sample`'),  # added
    # bilinear pooling
    ('BilinearPooling', dict(index=(1, 2, 3)), '`index`'),
    ('BilinearPooling', dict(index='a'), '`index`'),
    ('BilinearPooling', dict(eps=0), '`eps`'),
    ('BilinearPooling', dict(in_channels=8, reduce_channels=0),
     '`reduce_channels`'),
    ('BilinearPooling', dict(reduce_channels=4), '`in_channels`'),
    ('BilinearPooling', dict(in_channels=(8, 8, 8), reduce_channels=4),
     '`in_channels`'),
    ('BilinearPooling', dict(use_signed_sqrt='no'),
     '`use_signed_sqrt`'),  # added
    ('BilinearPooling', dict(use_l2_norm=0), '`use_l2_norm`'),  # added
    ('CompactBilinearPooling', dict(output_dim=0), '`output_dim`'),
    ('CompactBilinearPooling', dict(seed=-1), '`seed`'),
    ('CompactBilinearPooling', dict(in_channels=0), '`in_channels`'),
    ('CompactBilinearPooling', dict(in_channels=(8, )), '`in_channels`'),
    ('CompactBilinearPooling', dict(eps=-1), '`eps`'),
    ('CompactBilinearPooling', dict(index=(1, 2, 3)), '`index`'),
    ('CompactBilinearPooling', dict(use_signed_sqrt='no'),
     '`use_signed_sqrt`'),  # added
    ('CompactBilinearPooling', dict(use_l2_norm='yes'),
     '`use_l2_norm`'),  # added
    # MA-CNN
    ('MACNNHead', dict(num_parts=0), '`num_parts`'),
    ('MACNNHead', dict(hidden_channels=0), '`hidden_channels`'),
    ('MACNNHead', dict(part_loss_weight=-1), '`part_loss_weight`'),
    ('MACNNHead', dict(with_global='no'), '`with_global`'),  # added
    ('MACNNHead', dict(detach_cng=1), '`detach_cng`'),  # added
    ('MACNNHead', dict(cng_loss=dict(type='ChannelGroupingLoss',
                                     margin=-1)), '`margin`'),
    ('ChannelGroupingLoss', dict(margin=2), '`margin`'),
    ('ChannelGroupingLoss', dict(div_weight=-1), '`div_weight`'),
    ('ChannelGroupingLoss', dict(loss_weight=-1), '`loss_weight`'),
    # Table 8 losses
    ('CenterLossHead', dict(num_classes=0), '`num_classes`'),
    ('CenterLossHead', dict(center_loss=dict(type='CenterLoss',
                                             num_classes=5, feat_dim=8)),
     'num_classes`'),
    ('CenterLossHead', dict(center_loss=dict(type='CenterLoss',
                                             feat_dim=16)), 'feat_dim`'),
    ('CenterLossHead', dict(center_loss=dict(type='CenterLoss', alpha=2)),
     '`alpha`'),
    ('CenterLoss', dict(alpha=2), '`alpha`'),
    ('CenterLoss', dict(feat_dim=0), '`feat_dim`'),
    ('CenterLoss', dict(loss_weight=-1), '`loss_weight`'),
    ('SphereFaceHead', dict(margin=1.5), '`margin`'),
    ('SphereFaceHead', dict(margin=0), '`margin`'),
    ('SphereFaceHead', dict(lambda_min=-1), '`lambda_min`'),
    ('SphereFaceHead', dict(lambda_base='x'), '`lambda_base`'),
    ('CosFaceHead', dict(margin=2.5), '`margin`'),
    ('CosFaceHead', dict(margin=-0.1), '`margin`'),
    ('CosFaceHead', dict(scale=0), '`scale`'),
    ('CosFaceHead', dict(num_subcenters=0), '`num_subcenters`'),
    ('COCOHead', dict(scale=0), '`scale`'),
    ('COCOHead', dict(num_classes=0), '`num_classes`'),
    ('LGMHead', dict(margin=-1), '`margin`'),
    ('LGMHead', dict(lambda_lkd=-1), '`lambda_lkd`'),
    ('LGMHead', dict(in_channels=0), '`in_channels`'),
    ('PairwiseConfusionLoss', dict(confusion_weight=-1),
     '`confusion_weight`'),
    ('PairwiseConfusionLoss', dict(loss_weight=NAN), '`loss_weight`'),
    ('PairwiseConfusionLoss', dict(squared='no'), '`squared`'),  # added
    ('PairwiseConfusionLoss', dict(only_different_labels=None),
     '`only_different_labels`'),  # added
    ('SoftmaxFocalLoss', dict(gamma=-1), '`gamma`'),
    ('SoftmaxFocalLoss', dict(alpha=NAN), '`alpha`'),
    ('SoftmaxFocalLoss', dict(reduction='avg'), '`reduction`'),
    ('SoftmaxFocalLoss', dict(loss_weight='1'), '`loss_weight`'),
    # official MC-loss layouts
    ('MCLossHead', dict(pool='mean'), '`pool`'),
    ('MCLossHead', dict(pool_size=0), '`pool_size`'),
    ('MCLossHead', dict(hidden_channels=0), '`hidden_channels`'),
    ('MutualChannelLoss', dict(channels_per_class=[3, 3]),
     '`channels_per_class`'),
    ('MutualChannelLoss', dict(channels_per_class=[3, 3, 0, 3]),
     '`channels_per_class`'),
    ('ResNetLastStage', dict(last_stage_channels=0),
     '`last_stage_channels`'),
    ('ResNetLastStage', dict(depth=50, last_stage_channels=6),
     '`last_stage_channels`'),
    ('VGGLastConv', dict(last_conv_channels=(None, 0, None, None, None)),
     '`last_conv_channels`'),
    ('VGGLastConv', dict(last_conv_channels=(None, )), '`last_conv_channels`'),
]


def _build(component: str, **overrides):
    kind, base = COMPONENTS[component]
    return BUILDERS[kind](dict(base, type=component, **overrides))


def _case_id(case):
    component, kwargs, _ = case
    return f'{component}-' + '-'.join(f'{k}={v!r}' for k, v in kwargs.items())


@pytest.mark.parametrize('component', sorted(COMPONENTS))
def test_valid_base_config_builds(component):
    assert _build(component) is not None


def test_every_registered_component_is_swept():
    """The tables cover every component our package registers with
    arguments."""
    from mmpretrain.registry import (DATASETS, OPTIM_WRAPPER_CONSTRUCTORS,
                                     TRANSFORMS)
    ours = set()
    for registry in (MODELS, HOOKS, METRICS, PARAM_SCHEDULERS,
                     OPTIM_WRAPPER_CONSTRUCTORS, DATASETS, TRANSFORMS):
        for name, cls in registry.module_dict.items():
            if cls.__module__.startswith('projects.fgvc_aam'):
                ours.add(name)
    covered = set(COMPONENTS) | set(DATA_COMPONENTS)
    # GroupMultiStepParamScheduler is GroupMultiStepLR's generic parent;
    # DatasetConsistencyHook, PlainCheckpointHook and the GT / whole-image
    # box sources take no arguments.
    assert ours - covered <= {'GroupMultiStepParamScheduler',
                              'DatasetConsistencyHook',
                              'PlainCheckpointHook',
                              'GroundTruthBoxLocalizer',
                              'WholeImageLocalizer'}, \
        sorted(ours - covered)
    assert {c for c, _, _ in CASES} == set(COMPONENTS)
    assert {c for c, _, _ in DATA_CASES} == set(DATA_COMPONENTS)


@pytest.mark.parametrize('case', CASES, ids=[_case_id(c) for c in CASES])
def test_bad_argument_fails_at_build_naming_it(case):
    component, kwargs, expected = case
    with pytest.raises((TypeError, ValueError)) as info:
        _build(component, **kwargs)
    message = str(info.value)
    assert expected in message, message
    (value, *more) = kwargs.values()
    if not more and isinstance(value, (int, float, str)):
        # the bad value is shown too (an int may be printed as e.g. -1.0)
        shown = {repr(value), str(value)}
        if isinstance(value, (int, float)):
            shown.add(repr(float(value)))
        assert any(text in message for text in shown), message


# ------------------------------------------------------------------- data
#: component -> valid base config (``data_root`` is filled in by the test)
DATA_COMPONENTS = {
    'CUBWithBoxes': dict(with_bbox=True),
    'BoxAwareRandomCrop': dict(crop_size=32),
    'BoxAwareRandomResizedCrop': dict(scale=32),
    'BoxAwareResizeEdge': dict(scale=32),
    'PackInputsWithBoxes': dict(),
    'RecordInputGeometry': dict(transforms=[dict(type='Resize', scale=32)]),
    'CarvedSplit': dict(part='val'),
}

DATA_CASES = [
    ('RecordInputGeometry', dict(transforms='Resize'), '`transforms`'),
    ('CUBWithBoxes', dict(verify_images='bogus'), 'verify_images'),
    ('CUBWithBoxes', dict(with_bbox='yes'), 'with_bbox'),
    ('CUBWithBoxes', dict(test_mode='x'), 'test_mode'),  # added
    ('CUBWithBoxes', dict(bbox_tolerance=-1), 'bbox_tolerance'),
    ('CUBWithBoxes', dict(bbox_tolerance=NAN), 'bbox_tolerance'),  # added
    ('CUBWithBoxes', dict(bbox_tolerance=True), 'bbox_tolerance'),  # added
    ('CUBWithBoxes', dict(split='val'), 'split'),
    # the transforms' parents only `assert` (no name): checks added
    ('BoxAwareRandomCrop', dict(crop_size=0), '`crop_size`'),
    ('BoxAwareRandomCrop', dict(crop_size='64'), '`crop_size`'),
    ('BoxAwareRandomCrop', dict(crop_size=(64, 0)), '`crop_size`'),
    ('BoxAwareRandomCrop', dict(padding=(1, 2, 3)), '`padding`'),
    ('BoxAwareRandomCrop', dict(padding=-1), '`padding`'),
    ('BoxAwareRandomCrop', dict(padding_mode='zzz'), '`padding_mode`'),
    ('BoxAwareRandomResizedCrop', dict(scale=0), '`scale`'),
    ('BoxAwareRandomResizedCrop', dict(scale=(64, 64, 3)), '`scale`'),
    ('BoxAwareRandomResizedCrop', dict(max_attempts=-1), '`max_attempts`'),
    ('BoxAwareRandomResizedCrop', dict(interpolation='cubic'),
     '`interpolation`'),
    ('BoxAwareRandomResizedCrop', dict(crop_ratio_range=(1.0, 0.1)),
     'crop_ratio_range'),
    ('BoxAwareRandomResizedCrop', dict(aspect_ratio_range=(2, 1)),
     'aspect_ratio_range'),
    ('BoxAwareResizeEdge', dict(scale=0), '`scale`'),
    ('BoxAwareResizeEdge', dict(scale=32.5), '`scale`'),
    ('BoxAwareResizeEdge', dict(edge='middle'), '`edge`'),
    ('PackInputsWithBoxes', dict(box_keys=3), '`box_keys`'),
    ('PackInputsWithBoxes', dict(box_keys=['']), '`box_keys`'),
    ('CarvedSplit', dict(part='test'), 'part'),
    ('CarvedSplit', dict(fraction=1.0), 'fraction'),
    ('CarvedSplit', dict(fraction='0.2'), 'fraction'),
    ('CarvedSplit', dict(seed=0.5), 'seed'),
]


def _build_data(component: str, root: str, **overrides):
    from mmpretrain.registry import DATASETS, TRANSFORMS
    cfg = dict(DATA_COMPONENTS[component], type=component, **overrides)
    if component == 'CUBWithBoxes':
        return DATASETS.build(dict(cfg, data_root=root))
    if component == 'CarvedSplit':
        return DATASETS.build(dict(cfg, dataset=dict(
            type='CUBWithBoxes', data_root=root, split='train')))
    return TRANSFORMS.build(cfg)


@pytest.mark.parametrize('component', sorted(DATA_COMPONENTS))
def test_valid_data_component_builds(component, synthetic_root):
    root = synthetic_root[0] if isinstance(synthetic_root,
                                           tuple) else synthetic_root
    assert _build_data(component, root) is not None


@pytest.mark.parametrize('case', DATA_CASES,
                         ids=[_case_id(c) for c in DATA_CASES])
def test_bad_data_argument_fails_at_build_naming_it(case, synthetic_root):
    root = synthetic_root[0] if isinstance(synthetic_root,
                                           tuple) else synthetic_root
    component, kwargs, expected = case
    # mmpretrain's CUB checks `split` with an assert naming it
    errors = (TypeError, ValueError, AssertionError) if 'split' in kwargs \
        else (TypeError, ValueError)
    with pytest.raises(errors) as info:
        _build_data(component, root, **kwargs)
    assert expected in str(info.value), str(info.value)

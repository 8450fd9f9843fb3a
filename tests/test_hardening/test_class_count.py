"""Own data in one setting (issue 24): the class count comes from the data
set.

Oracles: the number of lines of the generated ``classes.txt`` / of class
folders written here; MMPretrain's own ``Accuracy``, which raises
``Top-5 accuracy is unavailable`` on a 3-class set only when it evaluates
(after a whole training epoch on unchanged main).
"""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam_hardening.class_count import fill_num_classes
from fgvc_aam_tools.synthetic_fgvc import make_synthetic_fgvc
from projects.fgvc_aam.datasets import DataValidationError
from tests.helpers import (ROOT, TINY_SYNTHETIC, python_tool,
                           root_and_classes, scalars)

TWO_BRANCH_CUB = osp.join(
    ROOT, 'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py')
TWO_BRANCH_SYNTHETIC = osp.join(
    ROOT, 'configs/two_branch/'
    'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py')


def _data_root_options(root: str) -> dict:
    return {f'{split}_dataloader.dataset.data_root': root
            for split in ('train', 'val', 'test')}


@pytest.fixture(scope='module')
def three_classes(tmp_path_factory) -> str:
    """A 3-class CUB-layout set (4 train + 2 test images per class)."""
    return make_synthetic_fgvc(
        str(tmp_path_factory.mktemp('three')),
        **dict(TINY_SYNTHETIC, num_classes=3))


def test_fill_sets_head_preprocessor_and_topk(three_classes):
    root, n = root_and_classes(three_classes)
    assert n == 3
    cfg = Config.fromfile(TWO_BRANCH_CUB)
    cfg.merge_from_dict(_data_root_options(root))
    assert cfg.model.head.num_classes == 200  # the config says CUB
    assert fill_num_classes(cfg, training=True) == n
    assert cfg.model.head.num_classes == n
    assert cfg.data_preprocessor.num_classes == n
    assert cfg.val_evaluator[0].topk == (1, )
    assert cfg.test_evaluator[0].topk == (1, )
    assert cfg.val_evaluator[1].type == 'LocalizationMetric'  # untouched


def test_fill_reads_an_image_folder(tmp_path):
    """MMPretrain's CustomDataset (one folder per class) names its classes
    only after scanning the folders."""
    import cv2
    for name in ('cat', 'dog'):
        os.makedirs(tmp_path / 'train' / name)
        cv2.imwrite(str(tmp_path / 'train' / name / 'a.png'),
                    np.zeros((8, 8, 3), np.uint8))
    cfg = Config(dict(
        model=dict(type='ImageClassifier', head=dict(
            type='LinearClsHead', num_classes=10, in_channels=4,
            loss=dict(type='CrossEntropyLoss')),
            backbone=dict(type='VGG', depth=11, num_classes=-1)),
        train_dataloader=dict(dataset=dict(
            type='CustomDataset', data_root=str(tmp_path / 'train'),
            pipeline=[])),
        val_evaluator=dict(type='Accuracy', topk=5)))
    assert fill_num_classes(cfg, training=True) == 2
    assert cfg.model.head.num_classes == 2
    assert cfg.model.backbone.num_classes == -1  # "no classifier" stays
    assert cfg.val_evaluator.topk == (1, )


def test_fill_refuses_train_and_val_sets_that_disagree(three_classes,
                                                       synthetic_root):
    cfg = Config.fromfile(TWO_BRANCH_CUB)
    cfg.merge_from_dict(_data_root_options(three_classes))
    cfg.val_dataloader.dataset.data_root = synthetic_root  # 4 classes
    with pytest.raises(DataValidationError,
                       match=r'disagree.*has 3.*has 4'):
        fill_num_classes(cfg, training=True)


def _upstream_runner(cfg: Config) -> Runner:
    """What MMPretrain's tools/train.py builds (no prepare_runtime).

    Each runner gets its own experiment name: two runners built in the same
    second would otherwise share mmengine's logger and visualizer instances
    (named by the time stamp), and the second run's scalars would go to
    the first one's work dir."""
    cfg.merge_from_dict({
        'experiment_name': 'upstream_' + osp.basename(cfg.work_dir),
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False})
    return Runner.from_cfg(cfg)


# custom_hooks[0] of the config is its MarginScheduleHook
UNREACHED_MILESTONES_OK = 'custom_hooks.0.allow_unreached_milestones'


@pytest.mark.slow
def test_upstream_runner_refuses_every_mismatch_before_the_first_iteration(
        three_classes, tmp_path):
    """MMPretrain's own tools (no prepare_runtime): head, preprocessor and
    top-5 do not fit a 3-class set; one message names all three, and its
    --cfg-options make the run work. On unchanged main the head was refused
    first, then the preprocessor, and with both set the run trained its
    epoch and failed in validation."""
    cfg = Config.fromfile(TWO_BRANCH_SYNTHETIC)
    cfg.merge_from_dict(dict(_data_root_options(three_classes),
                             work_dir=str(tmp_path / 'refused')))
    runner = _upstream_runner(cfg.copy())
    with pytest.raises(DataValidationError) as err:
        runner.train()
    assert runner.iter == 0
    msg = str(err.value)
    assert 'has 3 classes' in msg
    fix = msg.split('--cfg-options ')[1].split(' (tools/')[0].split()
    assert sorted(fix) == ['data_preprocessor.num_classes=3',
                           'model.head.num_classes=3',
                           'val_evaluator.0.topk=1']
    cfg.merge_from_dict(dict(
        (k, DictAction._parse_iterable(v)) for k, v in
        (o.split('=', 1) for o in fix)))
    cfg.merge_from_dict({'work_dir': str(tmp_path / 'fixed'),
                         'train_cfg.max_epochs': 1,
                         # one epoch: the margin milestones are never reached
                         UNREACHED_MILESTONES_OK: True})
    runner = _upstream_runner(cfg)
    runner.train()
    assert runner.iter == 1  # 12 images, batch 16
    val = [r for r in scalars(str(tmp_path / 'fixed'))[-1]
           if 'accuracy/top1' in r]
    assert len(val) == 1 and 'accuracy/top5' not in val[0]


@pytest.mark.slow
@pytest.mark.e2e
def test_own_three_class_set_trains_and_validates_with_data_root_only(
        three_classes, tmp_path):
    """tools/train.py with only the data root: one iteration (12 training
    images, batch 16), then validation with top-1 and CorLoc."""
    work_dir = str(tmp_path / 'work')
    proc = python_tool(
        'tools/train.py', TWO_BRANCH_SYNTHETIC, '--work-dir', work_dir,
        '--cfg-options', 'train_cfg.max_epochs=1',
        f'{UNREACHED_MILESTONES_OK}=True',
        *(f'{k}={v}' for k, v in _data_root_options(three_classes).items()))
    assert 'has 3 classes; set from it: model.head.num_classes=3 (was 16)' \
        in proc.stdout + proc.stderr
    records = scalars(work_dir)[-1]
    assert [r['step'] for r in records if 'loss' in r] == [1]
    val = [r for r in records if 'accuracy/top1' in r]
    assert len(val) == 1 and 'accuracy/top5' not in val[0]
    assert 'localization/CorLoc' in val[0]

"""B-CNN on the reference's two-stage recipe (HaoMood/bilinear-cnn).

Oracles: the reference README's commands (stage 1: fc only, lr 1.0,
weight decay 1e-8, 55 epochs; stage 2: all layers, lr 1e-2, weight decay
1e-5, 25 epochs; batch 64; ReduceLROnPlateau factor 0.1 patience 3), and
the weights themselves in a tiny two-stage run with mmengine's Runner: the
backbone does not move in stage 1, stage 2 starts from stage 1's weights
and moves the backbone.
"""
import copy
import os.path as osp

import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS

from tests.helpers import ROOT, load_config
DATA = ('cub', 'fgvc-aircraft', 'stanford-cars')


def _cfg(stage, data='cub'):
    name = {1: 'bcnn-fc_vgg16_4xb16-55e', 2: 'bcnn-all_vgg16_4xb16-25e'}
    return load_config(
        osp.join(ROOT, 'configs', 'bcnn', f'{name[stage]}_{data}.py'))


@pytest.mark.parametrize('data', DATA)
def test_stages_follow_the_reference_readme(data):
    one, two = _cfg(1, data), _cfg(2, data)
    for cfg in (one, two):
        assert 4 * cfg.train_dataloader.batch_size == 64
        assert cfg.optim_wrapper.optimizer.momentum == 0.9
        sched = cfg.param_scheduler
        assert (sched.type, sched.rule, sched.factor, sched.patience,
                sched.threshold) == ('ReduceOnPlateauLR', 'greater', 0.1, 3,
                                     1e-4)
        assert sched.monitor == 'accuracy/top1'
        assert cfg.train_cfg.val_interval == 1  # the rule reads val acc
    assert (one.optim_wrapper.optimizer.lr,
            one.optim_wrapper.optimizer.weight_decay,
            one.train_cfg.max_epochs) == (1.0, 1e-8, 55)
    assert (two.optim_wrapper.optimizer.lr,
            two.optim_wrapper.optimizer.weight_decay,
            two.train_cfg.max_epochs) == (0.01, 1e-5, 25)
    assert one.model.backbone.init_cfg.type == 'Pretrained'
    # Stage 2 starts from stage 1's last checkpoint.
    assert two.load_from == (f'work_dirs/bcnn-fc_vgg16_4xb16-55e_{data}/'
                             f'epoch_{one.train_cfg.max_epochs}.pth')
    assert one.model.backbone.frozen_stages == 5
    assert two.model.backbone.frozen_stages == -1
    if data != 'cub':  # same models up to the class count: build one
        return
    # Stage 1 freezes every VGG-16 layer; stage 2 trains them all.
    for cfg, frozen in ((one, True), (two, False)):
        model = MODELS.build(cfg.model)
        model.train()
        grads = {p.requires_grad for p in model.backbone.parameters()}
        assert grads == {not frozen}
        assert all(p.requires_grad for p in model.head.parameters())


def _tiny(cfg, root, work_dir):
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    # VGG-11 at 64 px: the same frozen_stages / optimizer / scheduler.
    cfg.model.backbone.depth = 11
    cfg.model.backbone.init_cfg = None
    cfg.model.head.num_classes = 4
    cfg.model.head.topk = (1, )
    cfg.data_preprocessor.num_classes = 4
    cfg.val_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.test_evaluator = cfg.val_evaluator
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='ResizeEdge', scale=32, edge='short'),
                dict(type='CenterCrop', crop_size=32),
                dict(type='PackInputs')]
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[split]
        loader.batch_size = 2
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = root
        loader.dataset.pipeline = pipeline
        loader.dataset.indices = 4
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.pop('auto_scale_lr', None)
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.slow
def test_two_stage_run_freezes_then_finetunes(synthetic_root, tmp_path):
    from mmengine.runner import Runner
    torch.set_num_threads(1)
    one = _tiny(_cfg(1), synthetic_root, str(tmp_path / 'fc'))
    runner = Runner.from_cfg(one)
    start = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after_one = {k: v.clone() for k, v in runner.model.state_dict().items()}
    backbone = [k for k in start if k.startswith('backbone.')]
    head = [k for k in start if k.startswith('head.')]
    assert all(torch.equal(start[k], after_one[k]) for k in backbone)
    assert not all(torch.equal(start[k], after_one[k]) for k in head)

    two = _tiny(_cfg(2), synthetic_root, str(tmp_path / 'all'))
    two.load_from = str(tmp_path / 'fc' / 'epoch_1.pth')
    runner = Runner.from_cfg(two)
    runner.train()
    after_two = runner.model.state_dict()
    assert not all(torch.equal(after_one[k], after_two[k]) for k in backbone)
    # The stage-1 head was loaded (not re-initialised) before stage 2.
    ckpt = torch.load(two.load_from, map_location='cpu')['state_dict']
    assert all(torch.equal(ckpt[k], after_one[k]) for k in head)


def test_class_check_skips_backbones_without_classifier():
    """MMPretrain's VGG takes ``num_classes=-1`` for 'no classifier'
    (every VGG config here: B-CNN, MA-CNN, Table 8): the model / data set
    class check must not read it as a class count, and must still catch a
    wrong head."""
    from projects.fgvc_aam.datasets.validation import (DataValidationError,
                                                       check_num_classes)

    class Data:
        metainfo = dict(classes=['a', 'b', 'c', 'd'])
        data_root = 'tiny'

    cfg = _cfg(1)
    cfg.model.backbone.depth = 11
    cfg.model.head.num_classes = 4
    model = MODELS.build(cfg.model)
    assert model.backbone.num_classes == -1
    check_num_classes(model, [Data()])
    cfg.model.head.num_classes = 5
    with pytest.raises(DataValidationError, match='model.head.num_classes=5'):
        check_num_classes(MODELS.build(cfg.model), [Data()])

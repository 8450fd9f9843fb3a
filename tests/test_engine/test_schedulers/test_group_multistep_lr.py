"""Per-group learning-rate milestones (thesis fine-tuning recipe)."""
import pytest
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import PARAM_SCHEDULERS

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.engine import load_checkpoint_file
from tests.helpers import ToyDataset, lenet_classifier, toy_runner

# the thesis: backbone 0.001 decayed x0.1 at 60; head 0.01 at 50 and 75
RECIPE_OPTIM = dict(
    constructor='NamedGroupOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        default_group='backbone',
        custom_keys={'head': dict(lr_mult=10.0, name='head')}))
RECIPE_SCHED = dict(type='GroupMultiStepLR', by_epoch=True, gamma=0.1,
                    milestones=dict(backbone=[60], head=[50, 75]))


def oracle_lr(base, milestones, epoch, gamma=0.1):
    """lr during 1-based ``epoch``: decayed once per milestone passed."""
    return base * gamma**sum(epoch > m for m in milestones)


class TinyNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
        self.neck = nn.Linear(4, 4)
        self.head = nn.Linear(4, 3)


def setup_module():
    init_default_scope('mmpretrain')


def test_constructor_builds_two_named_groups():
    model = TinyNet()
    ow = build_optim_wrapper(model, RECIPE_OPTIM)
    groups = ow.optimizer.param_groups
    assert [g['name'] for g in groups] == ['backbone', 'head']
    assert [g['lr'] for g in groups] == pytest.approx([0.001, 0.01])
    # every trainable parameter exactly once, in the right group
    ids = [id(p) for g in groups for p in g['params']]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    assert {id(p) for p in groups[1]['params']} == {
        id(p) for p in model.head.parameters()}


def test_each_group_follows_its_own_milestones():
    ow = build_optim_wrapper(TinyNet(), RECIPE_OPTIM)
    sched = PARAM_SCHEDULERS.build(dict(RECIPE_SCHED, optimizer=ow))
    lrs = {}
    for epoch in range(1, 101):
        lrs[epoch] = [g['lr'] for g in ow.optimizer.param_groups]
        ow.step()
        sched.step()
    for epoch in (1, 50, 51, 60, 61, 75, 76, 100):
        assert lrs[epoch][0] == pytest.approx(
            oracle_lr(0.001, [60], epoch)), epoch
        assert lrs[epoch][1] == pytest.approx(
            oracle_lr(0.01, [50, 75], epoch)), epoch
    # hand-computed spot checks
    assert lrs[55] == pytest.approx([1e-3, 1e-3])
    assert lrs[70] == pytest.approx([1e-4, 1e-3])
    assert lrs[80] == pytest.approx([1e-4, 1e-4])


def test_works_with_default_constructor_per_parameter_groups():
    """mmengine's constructor: one group per parameter, tagged by name."""
    cfg = dict(
        optimizer=dict(type='SGD', lr=0.1),
        paramwise_cfg=dict(custom_keys={'head': dict(name='head')}))
    ow = build_optim_wrapper(TinyNet(), cfg)
    assert len(ow.optimizer.param_groups) == 8
    sched = PARAM_SCHEDULERS.build(
        dict(type='GroupMultiStepLR', optimizer=ow,
             milestones=dict(default=[2], head=[1])))
    lrs = []
    for _ in range(4):
        lrs.append([(g.get('name'), g['lr'])
                    for g in ow.optimizer.param_groups])
        ow.step()
        sched.step()
    for epoch, row in enumerate(lrs, 1):
        for name, lr in row:
            ms = [1] if name == 'head' else [2]
            assert lr == pytest.approx(oracle_lr(0.1, ms, epoch))


def test_convert_to_iter_based():
    ow = build_optim_wrapper(TinyNet(), RECIPE_OPTIM)
    sched = PARAM_SCHEDULERS.build(
        dict(type='GroupMultiStepLR', optimizer=ow, by_epoch=True,
             convert_to_iter_based=True,
             milestones=dict(backbone=[2], head=[1, 3])),
        default_args=dict(epoch_length=4))
    for it in range(20):
        epoch = it // 4 + 1
        lrs = [g['lr'] for g in ow.optimizer.param_groups]
        assert lrs[0] == pytest.approx(oracle_lr(0.001, [2], epoch)), it
        assert lrs[1] == pytest.approx(oracle_lr(0.01, [1, 3], epoch)), it
        ow.step()
        sched.step()


@pytest.mark.parametrize('kwargs, match', [
    (dict(milestones=dict(backbone=[60], head=[50], heads=[50])),
     r"\['heads'\] that the optimizer does not have"),
    (dict(milestones=dict(head=[50])), "named 'backbone'.*no entry"),
    (dict(milestones=dict(backbone=[-1], head=[2])), r"backbone.*\[-1\]"),
    (dict(milestones=dict(backbone=[1], head=[2]), gamma=0),
     r"`gamma\['default'\]`.*0"),
    (dict(milestones=dict(backbone=[1], head=[2]),
          gamma=dict(head=-0.5, backbone=0.1)), r"head.*-0.5"),
])
def test_invalid_scheduler_settings(kwargs, match):
    ow = build_optim_wrapper(TinyNet(), RECIPE_OPTIM)
    with pytest.raises(ValueError, match=match):
        PARAM_SCHEDULERS.build(
            dict(type='GroupMultiStepLR', optimizer=ow, **kwargs))


def test_invalid_constructor_settings():
    cfg = dict(RECIPE_OPTIM,
               paramwise_cfg=dict(custom_keys={'head': dict(name=3)}))
    # a wrong type is a TypeError (one argument-check style, issue 15)
    with pytest.raises(TypeError, match=r"custom_keys\['head'\].name.*3"):
        build_optim_wrapper(TinyNet(), cfg)
    cfg = dict(RECIPE_OPTIM, paramwise_cfg=dict(default_group=''))
    with pytest.raises(ValueError, match='default_group'):
        build_optim_wrapper(TinyNet(), cfg)


# -------------------------------------------------- real runner + resume
class LrRecorder(Hook):

    def __init__(self):
        self.rows = {}

    def before_train_epoch(self, runner):
        self.rows[runner.epoch + 1] = {
            g['name']: g['lr']
            for g in runner.optim_wrapper.optimizer.param_groups
        }


def make_runner(work_dir, max_epochs, load_from=None):
    rec = LrRecorder()
    runner = toy_runner(
        work_dir,
        model=lenet_classifier(dict(type='AngularMarginHead', num_classes=3,
                                    in_channels=120, margin=0.1)),
        name='lr',
        dataset=ToyDataset(n=8),
        load_from=load_from,
        optim_wrapper=RECIPE_OPTIM,
        param_scheduler=dict(type='GroupMultiStepLR', by_epoch=True,
                             milestones=dict(backbone=[3], head=[2, 4])),
        # real batch 4 vs base 16: every group's lr is scaled by 1/4
        auto_scale_lr=dict(enable=True, base_batch_size=16),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        custom_hooks=[rec],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)))
    return runner, rec


def test_runner_auto_scale_lr_and_resume(tmp_path):
    runner, rec = make_runner(tmp_path / 'full', 5)
    runner.train()
    expected = {
        e: dict(backbone=oracle_lr(0.001 / 4, [3], e),
                head=oracle_lr(0.01 / 4, [2, 4], e))
        for e in range(1, 6)
    }
    assert rec.rows.keys() == expected.keys()
    for e in expected:
        assert rec.rows[e] == pytest.approx(expected[e]), e

    # group names and scheduler state survive the checkpoint
    ckpt = load_checkpoint_file(str(tmp_path / 'full' / 'epoch_2.pth'),
                                map_location='cpu')
    names = [g['name'] for g in ckpt['optimizer']['param_groups']]
    assert names == ['backbone', 'head']

    resumed, rec2 = make_runner(tmp_path / 'resumed', 5,
                                load_from=str(tmp_path / 'full' /
                                              'epoch_2.pth'))
    resumed.train()
    assert sorted(rec2.rows) == [3, 4, 5]
    for e in (3, 4, 5):
        assert rec2.rows[e] == pytest.approx(expected[e]), e

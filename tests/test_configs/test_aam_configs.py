"""The configs of configs/aam build, and produce the thesis schedules.

Needs the data helper's ``configs/_base_/datasets/*`` (skipped without).
"""
import glob
import os.path as osp
import re

import pytest
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import HOOKS, MODELS

import projects.fgvc_aam  # noqa: F401

from tests.helpers import ROOT, load_config
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'aam', '*.py')))
DATASET_BASES = [
    'cub_bs8_448.py', 'stanford_cars_bs8_448.py', 'fgvc_aircraft_bs8_448.py',
    'synthetic_fgvc_bs16_128.py'
]
pytestmark = pytest.mark.skipif(
    not all(
        osp.isfile(osp.join(ROOT, 'configs', '_base_', 'datasets', f))
        for f in DATASET_BASES),
    reason='dataset base configs (data helper) not on this branch yet')

NUM_CLASSES = {'cub': 200, 'stanford-cars': 196, 'fgvc-aircraft': 100,
               'synthetic-fgvc': 16}


def test_all_expected_configs_exist():
    names = {osp.basename(c) for c in CONFIGS}
    for schedule in ('aam-step', 'aam-linear', 'aam-exp', 'arcface-m0.5'):
        assert f'{schedule}_resnet50_2xb8-100e_cub.py' in names
        assert f'{schedule}_resnet18-w16_1xb16-30e_synthetic-fgvc.py' in names
    for data in ('cub', 'stanford-cars', 'fgvc-aircraft'):
        assert f'aam-step_resnet50_2xb8-100e_{data}.py' in names
        for backbone in ('resnet18', 'vgg16bn'):  # Table 8, AAM row
            assert f'aam-step_{backbone}_1xb32-300e_{data}.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = load_config(path)
    init_default_scope(cfg.default_scope)
    name = osp.basename(path)[:-3]
    model = MODELS.build(cfg.model)  # no init_weights: nothing downloaded
    assert type(model.head).__name__ == 'AngularMarginHead'
    assert model.head.num_classes == NUM_CLASSES[name.split('_')[-1]]
    hooks = [HOOKS.build(h) for h in cfg.custom_hooks]
    kinds = [type(h).__name__ for h in hooks]
    assert kinds == ['MarginScheduleHook']
    # the safety hook is a default hook (default_runtime.py): the list above
    # replaces the inherited custom_hooks, it cannot drop it
    assert cfg.default_hooks.non_finite.type == 'NonFiniteLossHook'
    schedule = {'aam-step': 'step', 'aam-linear': 'linear',
                'aam-exp': 'exponential',
                'arcface-m0.5': 'constant'}[name.split('_')[0]]
    assert hooks[0].schedule == schedule
    if 'resnet50' in name:
        assert cfg.model.backbone.init_cfg.type == 'Pretrained'
        ow = build_optim_wrapper(model, cfg.optim_wrapper)
        groups = ow.optimizer.param_groups
        assert [g['name'] for g in groups] == ['backbone', 'head']
        assert [g['lr'] for g in groups] == pytest.approx([1e-3, 1e-2])
        assert groups[0]['momentum'] == 0.9
        assert groups[0]['weight_decay'] == 1e-4
        assert cfg.train_cfg.max_epochs == 100
        assert cfg.auto_scale_lr.base_batch_size == 16
        gpus, per_gpu = re.search(r'_(\d+)xb(\d+)-', name).groups()
        assert cfg.train_dataloader.batch_size == int(per_gpu)
        assert int(gpus) * int(per_gpu) == 16  # 2 x 8 or 8 x 2
        if schedule != 'constant':  # eq. 56
            assert (hooks[0].k1, hooks[0].k2, hooks[0].m1,
                    hooks[0].m2) == (30, 60, 0.25, 0.5)
        else:
            assert hooks[0].margin == 0.5
    if '1xb32-300e' in name:  # Table 8: from scratch, eq. 57
        assert 'init_cfg' not in cfg.model.backbone
        assert cfg.optim_wrapper.optimizer.lr == 0.1
        assert cfg.param_scheduler.milestones == [150, 225]
        assert cfg.train_cfg.max_epochs == 300
        assert cfg.train_dataloader.batch_size == 32
        assert cfg.auto_scale_lr.base_batch_size == 32
        assert (hooks[0].k1, hooks[0].k2, hooks[0].m1,
                hooks[0].m2) == (175, 250, 0.25, 0.5)


def test_plot_tool_reproduces_thesis_recipe(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'plot_margin_schedule',
        osp.join(ROOT, 'tools', 'analysis_tools', 'plot_margin_schedule.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = load_config(
        osp.join(ROOT, 'configs', 'aam', 'aam-step_resnet50_2xb8-100e_cub.py'))
    sim = tool.simulate(cfg, iters_per_epoch=2)
    assert set(sim['lrs']) == {'backbone', 'head'}
    for epoch in (1, 30, 31, 50, 51, 60, 61, 75, 76, 100):
        it = (epoch - 1) * 2  # first iteration of the 1-based epoch
        margin = 0.0 if epoch <= 30 else (0.25 if epoch <= 60 else 0.5)
        assert sim['margin'][it] == margin, epoch
        assert sim['lrs']['backbone'][it] == pytest.approx(
            1e-3 * 0.1**(epoch > 60)), epoch
        assert sim['lrs']['head'][it] == pytest.approx(
            1e-2 * 0.1**((epoch > 50) + (epoch > 75))), epoch
    out = tmp_path / 'step.png'
    tool.main([
        osp.join(ROOT, 'configs', 'aam',
                 'aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py'),
        '--out', str(out), '--iters-per-epoch', '2'
    ])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

"""No silent setting (issue 13, case 6): an unknown key in a
``paramwise_cfg.custom_keys`` entry or in a hook's config fails when the
tools prepare the config (before the runner is built or anything is
written), naming the key and the allowed ones.

Oracle: on main, ``custom_keys={'head': dict(lr_mul=10.)}`` builds and the
head's group silently keeps the base lr (checked below through mmengine's
own constructor), and ``max_keep=1`` in the checkpoint hook fails only at
the first save; the valid configs of the repository must still pass.
"""
import os.path as osp

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import DefaultOptimWrapperConstructor

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS
from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
from tests.helpers import ROOT

AAM = osp.join(ROOT, 'tests', 'configs', 'tiny_aam_synthetic.py')


def _cfg(**changes) -> Config:
    cfg = Config.fromfile(AAM)
    cfg.merge_from_dict(changes)
    return cfg


def test_typo_in_custom_keys_would_be_silent_upstream():
    """The premise: mmengine stores ``lr_mul`` and ignores it."""
    model = nn.Sequential()
    model.add_module('head', nn.Linear(2, 2))
    constructor = DefaultOptimWrapperConstructor(
        dict(optimizer=dict(type='SGD', lr=0.1)),
        dict(custom_keys={'head': dict(lr_mul=10.)}))
    groups = constructor(model).optimizer.param_groups
    assert all(g['lr'] == 0.1 and g['lr_mul'] == 10. for g in groups)


@pytest.mark.parametrize('constructor', [
    'NamedGroupOptimWrapperConstructor', 'DefaultOptimWrapperConstructor'])
def test_unknown_custom_key_is_refused(constructor):
    cfg = _cfg(**{
        'optim_wrapper.constructor': constructor,
        'optim_wrapper.paramwise_cfg.custom_keys': {
            'head': dict(lr_mul=10.0, name='head')}})
    if constructor == 'DefaultOptimWrapperConstructor':
        cfg.optim_wrapper.paramwise_cfg.pop('default_group')
    with pytest.raises(KeyError) as info:
        prepare_runtime(cfg, training=False)
    msg = str(info.value)
    assert "custom_keys['head']" in msg and 'lr_mul=10.0' in msg
    assert 'lr_mult' in msg and 'momentum' in msg  # the allowed ones


def test_named_group_constructor_refuses_unknown_custom_key():
    with pytest.raises(KeyError, match='lr_mul'):
        OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
            type='NamedGroupOptimWrapperConstructor',
            optim_wrapper_cfg=dict(optimizer=dict(type='SGD', lr=0.1)),
            paramwise_cfg=dict(custom_keys={'head': dict(lr_mul=2.)})))


def test_valid_custom_keys_pass():
    cfg = _cfg(**{'optim_wrapper.paramwise_cfg.custom_keys': {
        'head': dict(lr_mult=10.0, decay_mult=0., momentum=0.5,
                     name='head')}})
    prepare_runtime(cfg, training=False)


@pytest.mark.parametrize('where,hook,bad,allowed', [
    ('custom_hooks[0]', dict(type='MarginScheduleHook', k1=1, k2=2, m3=0.1),
     'm3', 'm1'),
    ('default_hooks.checkpoint', None, 'max_keep', 'max_keep_ckpts'),
    ('default_hooks.epoch_seed', dict(type='EpochSeedHook', seed=1), 'seed',
     'diff_rank_seed'),
])
def test_unknown_hook_argument_is_refused(where, hook, bad, allowed):
    cfg = _cfg()
    if where.startswith('custom_hooks'):
        cfg.custom_hooks = [hook]
    elif hook is None:
        cfg.default_hooks.checkpoint[bad] = 1
    else:
        cfg.default_hooks.epoch_seed = hook
    with pytest.raises(TypeError) as info:
        prepare_runtime(cfg, training=False)
    msg = str(info.value)
    assert where in msg and f'{bad}=' in msg and allowed in msg


@pytest.mark.parametrize('constructor', [
    'NamedGroupOptimWrapperConstructor', 'DefaultOptimWrapperConstructor'])
def test_custom_key_matching_no_parameter_is_refused(constructor):
    """Issue 22: ``bakcbone`` matched nothing and the backbone trained at
    the base (head) lr. Refused before training, naming the closest names
    (difflib over the model's module and parameter names)."""
    cfg = _cfg(**{
        'optim_wrapper.constructor': constructor,
        'optim_wrapper.paramwise_cfg.custom_keys': {
            'head': dict(lr_mult=10.0), 'bakcbone': dict(lr_mult=0.1)}})
    cfg.optim_wrapper.paramwise_cfg.pop('default_group')
    if constructor == 'DefaultOptimWrapperConstructor':
        with pytest.raises(KeyError) as info:
            prepare_runtime(cfg, training=False)
    else:  # checked on the runner's model, when the optimizer is built
        prepare_runtime(cfg, training=False)
        from mmpretrain.registry import MODELS
        model = MODELS.build(cfg.model)
        constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
            type=constructor, optim_wrapper_cfg=dict(
                type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer),
            paramwise_cfg=cfg.optim_wrapper.paramwise_cfg))
        with pytest.raises(KeyError) as info:
            constructor(model)
    msg = str(info.value)
    assert "custom_keys['bakcbone'] matches no parameter" in msg, msg
    assert "closest names: 'backbone'" in msg, msg

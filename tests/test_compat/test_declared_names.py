"""The private upstream names compat declares (issue 25): each exists in
the installed mmengine / MMPretrain, lies in its checked range, and
outside that range its wrapper raises ``UpstreamVersionError`` naming the
name, the range and the installed version, or takes its fallback."""
import importlib
import inspect
import os.path as osp
import re
from collections import OrderedDict
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from projects.fgvc_aam.compat import (UpstreamVersionError, declared_names,
                                      guard)
from projects.fgvc_aam.compat import mmengine as cm
from projects.fgvc_aam.compat import mmpretrain as cp

OUTSIDE = dict(mmengine='0.11.0', mmpretrain='1.3.0')
BELOW = dict(mmengine='0.9.1', mmpretrain='0.9.9')


# ----------------------------------------------------------- existence
def _resolve(dotted: str):
    """The installed object ``dotted`` names, and the attribute name left
    when the last part is an instance attribute (not on the class)."""
    parts = dotted.split('.')
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
            break
        except ImportError:
            continue
    for k, part in enumerate(parts[i:], i):
        if not hasattr(obj, part):
            assert k == len(parts) - 1, f'{dotted}: no {part} in {obj}'
            return obj, part
        obj = getattr(obj, part)
    return obj, None


def _set_by(cls: type, attr: str) -> bool:
    """Whether a class of ``cls``'s MRO sets ``self.<attr>`` or registers
    a buffer named ``attr``."""
    return any(
        re.search(rf"self\.{attr}\s*=|register_buffer\(\s*'{attr}'",
                  inspect.getsource(k)) for k in cls.__mro__
        if k.__module__.split('.')[0] in ('mmengine', 'mmpretrain'))


def exists_upstream(dotted: str) -> bool:
    package = dotted.split('.')[0].split('/')[0]
    if '/.mim/tools' in dotted:
        import ast
        rel, _, attr = dotted.split('/.mim/tools', 1)[1].lstrip(
            '/').partition(':')
        base = osp.join(
            osp.dirname(importlib.import_module(package).__file__), '.mim',
            'tools')
        wanted = {rel: [attr]} if rel else {
            'train.py': ['parse_args', 'merge_args'],
            'test.py': ['parse_args', 'merge_args'],
            'visualization/vis_scheduler.py': ['SimpleModel']
        }
        for tool, names in wanted.items():
            path = osp.join(base, tool)
            if not osp.isfile(path):
                return False
            with open(path) as f:
                top = {getattr(n, 'name', None)
                       for n in ast.parse(f.read()).body}
            if not set(names) <= top:
                return False
        return True
    if ' -> ' in dotted:  # a function and the attribute it sets
        function, target = dotted.split(' -> ')
        obj, missing = _resolve(function)
        attr = target.split('.')[-1]
        return missing is None and re.search(
            rf'\.{attr}\s*=', inspect.getsource(obj)) is not None
    internals = dotted.endswith('.__func__')
    obj, missing = _resolve(dotted.removesuffix('.__func__'))
    if missing is not None:
        return inspect.isclass(obj) and _set_by(obj, missing)
    return not internals or hasattr(obj, '__func__')


@pytest.mark.parametrize('dotted', sorted(declared_names()))
def test_every_declared_name_exists_upstream(dotted):
    """An upgrade that removes or renames one fails here, naming it."""
    assert exists_upstream(dotted), f'{dotted} is not in the installed ' \
        'upstream package'


def test_the_existence_check_finds_a_missing_name():
    assert not exists_upstream('mmengine.runner.runner.Runner._no_such')
    assert not exists_upstream('mmpretrain/.mim/tools/test.py:no_such')
    assert not exists_upstream(
        'mmpretrain.apis.model.get_model -> model._no_such')
    assert exists_upstream('mmengine.runner.runner.Runner._load_from')


def test_installed_versions_are_in_every_range():
    assert guard.check_private_names(strict=False) == []


def test_each_module_declares_its_own_package():
    for dotted, entry in declared_names().items():
        assert dotted.startswith(entry.package), dotted
        assert entry.why and entry.versions.startswith('>=')
    packages = {e.package for e in declared_names().values()}
    assert packages == {'mmengine', 'mmpretrain'}


# ------------------------------------------------------ outside a range
@pytest.fixture
def installed(monkeypatch):
    """Pretend other upstream versions are installed: ``installed(**v)``."""

    def pretend(**versions):
        monkeypatch.setattr(guard, 'installed_version',
                            lambda package: versions[package])
        guard.clear_version_cache()

    yield pretend
    guard.clear_version_cache()


def _linear_checkpoint():
    weight, bias = torch.arange(4.).view(2, 2), torch.tensor([5., 6.])
    return weight, bias, {'state_dict': OrderedDict(
        [('module.weight', weight), ('module.bias', bias)])}


# name -> a call of its wrapper (functions) or of its class
RAISING = {
    'mmengine.dist.utils._init_dist_mpi':
    lambda: cm.init_dist_mpi_without_cuda('gloo'),
    'mmengine.dist.utils._init_dist_slurm':
    lambda: cm.init_dist_slurm_without_cuda('gloo', port=1),
    'mmengine.hooks.checkpoint_hook.CheckpointHook._save_best_checkpoint':
    lambda: cm.SaveWrappingCheckpointHook(interval=1),
    'mmengine.hooks.checkpoint_hook.CheckpointHook.'
    '_save_checkpoint_with_step':
    lambda: cm.SaveWrappingCheckpointHook(interval=1),
    'mmengine.hooks.checkpoint_hook.CheckpointHook.file_backend':
    lambda: cm.SaveWrappingCheckpointHook(interval=1),
    'mmengine.optim.scheduler.param_scheduler._ParamScheduler._get_value':
    lambda: cm.ValueRuleMultiStepParamScheduler(None, 'lr', milestones=[1]),
    'mmengine.runner.checkpoint.CheckpointLoader._get_checkpoint_loader':
    lambda: cm.checkpoint_loader_for('https://x/y.pth'),
    'mmengine.runner.loops.EpochBasedTrainLoop._epoch':
    lambda: cm.set_loop_epoch(SimpleNamespace(), 1),
    'mmengine.runner.loops.EpochBasedTrainLoop._iter':
    lambda: cm.set_loop_iter(SimpleNamespace(), 1),
    'mmengine.runner.runner.Runner._build_param_scheduler':
    lambda: cm.RunnerScheduleView({}, None),
    'mmengine.runner.runner.Runner._train_dataloader':
    lambda: cm.RunnerScheduleView({}, None),
    'mmengine.runner.runner.Runner._train_loop':
    lambda: cm.RunnerScheduleView({}, None),
    'mmpretrain.apis.model.ModelHub._models_dict':
    lambda: cp.registered_models(),
    'mmpretrain.apis.model.get_model -> model._config':
    lambda: cp.model_config(SimpleNamespace(_config='c')),
    'mmpretrain.apis.model.get_model -> model._dataset_meta':
    lambda: cp.set_model_dataset_meta(SimpleNamespace(), {}),
    'mmpretrain.models.heads.ArcFaceClsHead.sinm_m':
    lambda: cp.drop_arcface_margin_cache(SimpleNamespace()),
    'mmpretrain.models.heads.ArcFaceClsHead.easy_margin':
    lambda: cp.drop_arcface_easy_margin(SimpleNamespace()),
    'mmpretrain.models.heads.ArcFaceClsHead._get_logit_with_margin':
    lambda: cp.ArcFaceMarginCosines(num_classes=2, in_channels=2),
    'mmpretrain.models.heads.ClsHead._get_predictions':
    lambda: cp.head_predictions(SimpleNamespace(), torch.zeros(1, 2), None),
    'mmpretrain/.mim/tools':
    lambda: cp.load_tool('test'),
    'mmpretrain/.mim/tools/visualization/vis_scheduler.py:SimpleModel':
    lambda: cp.vis_scheduler_tool(object),
}
# names whose wrappers have a fallback, tested below
FALLING_BACK = {
    'mmengine.optim.scheduler.param_scheduler.MultiStepParamScheduler.'
    'build_iter_from_epoch.__func__',
    'mmengine.runner.checkpoint._load_checkpoint_to_model',
    'mmengine.runner.runner.Runner._load_from',
    'mmpretrain.apis.model.get_model -> model._dataset_meta',
    'mmpretrain.models.utils.data_preprocessor.ClsDataPreprocessor.'
    '_enable_normalize',
}


def test_every_declared_name_is_tested_outside_its_range():
    assert set(RAISING) | FALLING_BACK == set(declared_names())


@pytest.mark.parametrize('versions', [OUTSIDE, BELOW])
@pytest.mark.parametrize('dotted', sorted(RAISING))
def test_outside_the_range_the_wrapper_raises_naming_it(
        installed, dotted, versions):
    entry = declared_names()[dotted]
    installed(**versions)
    with pytest.raises(UpstreamVersionError) as info:
        RAISING[dotted]()
    message = str(info.value)
    version = versions[entry.package]
    # the first unsupported name of the call is named (a class may
    # reach several): it is this one or one declared with it
    assert any(f'private name {name} of {entry.package},' in message
               for name in _declared_with(dotted)), message
    assert f'checked on {entry.package}{entry.versions}' in message
    assert f'{entry.package} {version} is installed' in message
    assert f'projects/fgvc_aam/compat/{entry.package}.py' in message


def _declared_with(dotted: str):
    for cls in (cm.SaveWrappingCheckpointHook, cm.RunnerScheduleView,
                cm.ValueRuleMultiStepParamScheduler):
        names = [e.name for e in cls.private_names]
        if dotted in names:
            return names
    return [dotted]


def test_a_class_checks_every_name_it_reaches():
    assert {e.name for e in cm.SaveWrappingCheckpointHook.private_names} == {
        'mmengine.hooks.checkpoint_hook.CheckpointHook.file_backend',
        'mmengine.hooks.checkpoint_hook.CheckpointHook._save_best_checkpoint',
        'mmengine.hooks.checkpoint_hook.CheckpointHook.'
        '_save_checkpoint_with_step'
    }
    assert len(cm.RunnerScheduleView.private_names) == 3


def test_the_checkpoint_hook_fails_when_built_not_when_saving(installed):
    """A subclass (AtomicCheckpointHook) built by the runner raises at once,
    not at its first save hours into training."""
    from projects.fgvc_aam_hardening.hooks import AtomicCheckpointHook
    AtomicCheckpointHook(interval=1)  # in range
    installed(mmengine='0.11.0', mmpretrain='1.2.0')
    with pytest.raises(UpstreamVersionError, match='CheckpointHook'):
        AtomicCheckpointHook(interval=1)


@pytest.mark.parametrize('versions', [None, OUTSIDE])
def test_iter_from_epoch_conversion_in_and_out_of_range(installed, versions):
    """Oracle: milestones, begin and end times the epoch length (5.5 ->
    int 55), by_epoch False; inside the range mmengine's classmethod does
    it, outside the written-out fallback."""
    if versions:
        installed(**versions)
    made = cm.multistep_iter_from_epoch(
        lambda *a, **k: (a, k), 'opt', milestones=[1, 3], begin=0.5,
        end=5.5, epoch_length=10, gamma=0.1)
    assert made == (('opt', ),
                    dict(milestones=[10, 30], begin=5, end=55,
                         by_epoch=False, gamma=0.1))
    _, endless = cm.multistep_iter_from_epoch(
        lambda *a, **k: (a, k), milestones=[2], epoch_length=4)
    assert endless['end'] == int(1e9) and endless['milestones'] == [8]
    with pytest.raises((AssertionError, ValueError), match='epoch_length'):
        cm.multistep_iter_from_epoch(lambda **k: k, milestones=[2])


@pytest.mark.parametrize('versions', [None, OUTSIDE])
def test_load_checkpoint_to_model_in_and_out_of_range(installed, versions):
    """Oracle: the tensors saved under ``module.`` end up in the model."""
    if versions:
        installed(**versions)
    weight, bias, checkpoint = _linear_checkpoint()
    model = torch.nn.Linear(2, 2)
    assert cm.load_checkpoint_to_model(model, checkpoint) is checkpoint
    assert torch.equal(model.weight.data, weight)
    assert torch.equal(model.bias.data, bias)


def test_runner_load_from_falls_back_to_the_config(installed):
    runner = SimpleNamespace(_load_from='a.pth',
                             cfg=Config(dict(load_from='b.pth')))
    assert cm.runner_load_from(runner) == 'a.pth'
    installed(**OUTSIDE)
    assert cm.runner_load_from(runner) == 'b.pth'


def test_dataset_meta_reading_falls_back_to_none(installed):
    model = SimpleNamespace()
    cp.set_model_dataset_meta(model, dict(classes=['a', 'b']))
    assert cp.model_dataset_meta(model) == dict(classes=['a', 'b'])
    installed(**OUTSIDE)
    assert cp.model_dataset_meta(model) is None
    with pytest.raises(UpstreamVersionError, match='_dataset_meta'):
        cp.set_model_dataset_meta(model, {})


@pytest.mark.parametrize('versions', [None, OUTSIDE])
def test_normalizes_in_and_out_of_range(installed, versions):
    """Oracle: a preprocessor given mean / std normalises, one without
    does not."""
    from mmpretrain.models import ClsDataPreprocessor
    if versions:
        installed(**versions)
    assert cp.normalizes(ClsDataPreprocessor(mean=[1, 2, 3], std=[4, 5, 6]))
    assert not cp.normalizes(ClsDataPreprocessor())


def test_a_fallback_must_be_described():
    with pytest.raises(ValueError, match='fallback_text'):
        guard.private('mmengine', 'mmengine.x._y', '>=0.10.0', 'why',
                      fallback=lambda: None)
    assert 'mmengine.x._y' not in declared_names()


def test_a_name_is_declared_once():
    dotted = next(iter(declared_names()))
    with pytest.raises(ValueError, match='declared twice'):
        guard.declare('mmengine', dotted, '>=0', 'again')


def test_the_range_includes_its_ends_and_prereleases():
    entry = declared_names()['mmengine.runner.runner.Runner._load_from']
    assert entry.supported('0.10.0') and entry.supported('0.10.7')
    assert not entry.supported('0.9.1') and not entry.supported('0.10.8')
    assert entry.supported('0.10.5rc0')

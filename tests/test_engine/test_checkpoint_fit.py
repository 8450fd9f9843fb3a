"""Weights must fit (issue 13, case 4): ``tools/test.py``, ``--resume`` and
the visualization tools' loader refuse a checkpoint whose tensors differ in
name or shape from the model, listing them, unless a partial load is asked
for (``allow_partial_checkpoint=True``).

Oracle: checkpoints made here from the same tiny model built with another
class count (so exactly ``head.fc.weight`` / ``head.fc.bias`` differ, with
shapes known by construction) or with a renamed tensor.
"""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401
from tests.helpers import ROOT, root_and_classes

CONFIG = osp.join(ROOT, 'tests', 'configs', 'tiny_softmax_synthetic.py')


def _model(num_classes: int):
    cfg = Config.fromfile(CONFIG)
    cfg.model.head.num_classes = num_classes
    return MODELS.build(cfg.model)


def _checkpoint(path: str, num_classes: int, rename: bool = False) -> str:
    state = _model(num_classes).state_dict()
    if rename:
        state['neck.extra.weight'] = state.pop('head.fc.bias')
    torch.save({'meta': dict(epoch=1, iter=4), 'state_dict': state}, path)
    return path


def _mismatch_error():
    from projects.fgvc_aam.engine import CheckpointMismatchError
    return CheckpointMismatchError


def test_mismatches_are_listed(tmp_path):
    from projects.fgvc_aam.engine import check_checkpoint_fits
    model = _model(4)
    ckpt = torch.load(_checkpoint(str(tmp_path / 'c.pth'), 5, rename=True),
                      weights_only=True)
    with pytest.raises(_mismatch_error()) as info:
        check_checkpoint_fits(model, ckpt, 'c.pth')
    msg = str(info.value)
    assert "'c.pth'" in msg
    assert 'head.fc.weight: checkpoint (5, 64) vs model (4, 64)' in msg
    assert '1 missing from the checkpoint (head.fc.bias)' in msg
    assert '1 not in the model (neck.extra.weight)' in msg
    assert 'allow_partial_checkpoint=True' in msg
    check_checkpoint_fits(model, ckpt, 'c.pth', allow_partial=True)
    # a DDP-wrapped checkpoint (module. prefix) of the same model fits
    wrapped = {f'module.{k}': v for k, v in model.state_dict().items()}
    check_checkpoint_fits(model, {'state_dict': wrapped})


def _runner_cfg(tmp_path, synthetic_root, **extra) -> Config:
    root, num_classes = root_and_classes(synthetic_root)
    cfg = Config.fromfile(CONFIG)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.model.head.num_classes = num_classes
    cfg.data_preprocessor.num_classes = num_classes
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    cfg.merge_from_dict(extra)
    return cfg


def test_resume_with_other_class_count_is_refused_before_training(
        tmp_path, synthetic_root):
    """Upstream loads it with warnings and fails inside the SGD step."""
    from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
    from projects.fgvc_aam_hardening.work_dir_lock import \
        release_work_dir_locks
    path = _checkpoint(str(tmp_path / 'five.pth'), 5)
    cfg = _runner_cfg(tmp_path, synthetic_root, resume=True, load_from=path)
    try:
        prepare_runtime(cfg)
        runner = Runner.from_cfg(cfg)
        with pytest.raises(_mismatch_error(), match=r'head\.fc\.weight'):
            runner.train()
    finally:
        release_work_dir_locks()
    assert runner.iter == 0  # not a single step was taken


def test_upstream_runner_refuses_checkpoint_of_other_class_count(
        tmp_path, synthetic_root):
    """MMPretrain's own tools (no prepare_runtime): the fit check comes from
    default_runtime.py's default_hooks. Before, only our tools added it, and
    mmengine loaded the checkpoint with a warning, the head left random."""
    path = _checkpoint(str(tmp_path / 'five.pth'), 5)
    cfg = _runner_cfg(tmp_path, synthetic_root, load_from=path)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(_mismatch_error(), match=r'head\.fc\.weight'):
        runner.load_or_resume()
    # the same switch as our tools' allow_partial_checkpoint=True
    cfg = _runner_cfg(tmp_path, synthetic_root, load_from=path)
    cfg.default_hooks.checkpoint_fit.allow_partial = True
    cfg.work_dir = str(tmp_path / 'partial')
    Runner.from_cfg(cfg).load_or_resume()


def test_partial_load_only_when_asked(tmp_path, synthetic_root):
    from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
    path = _checkpoint(str(tmp_path / 'five.pth'), 5)
    cfg = _runner_cfg(tmp_path, synthetic_root, load_from=path,
                      allow_partial_checkpoint=True)
    prepare_runtime(cfg, training=False)
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    loaded = torch.load(path, weights_only=True)['state_dict']
    # the matching tensors were loaded, the others left as they were
    assert torch.equal(runner.model.backbone.conv1.weight,
                       loaded['backbone.conv1.weight'])
    assert runner.model.head.fc.weight.shape == (4, 64)


@pytest.mark.slow
@pytest.mark.e2e
def test_test_tool_refuses_checkpoint_of_other_class_count(
        tmp_path, synthetic_root):
    """tools/test.py exits non-zero naming the tensors, writes no --out."""
    from tests.helpers import data_options, python_tool
    root, num_classes = root_and_classes(synthetic_root)
    path = _checkpoint(str(tmp_path / 'five.pth'), num_classes + 1)
    out = str(tmp_path / 'metrics.json')
    proc = python_tool('tools/test.py', CONFIG, path, '--work-dir',
                       str(tmp_path / 'work'), '--out', out, '--out-item',
                       'metrics', '--cfg-options',
                       *data_options(root, num_classes), check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert 'CheckpointMismatchError' in proc.stderr
    assert (f'head.fc.weight: checkpoint ({num_classes + 1}, 64) vs model '
            f'({num_classes}, 64)') in proc.stderr
    assert not osp.exists(out)


def test_visualization_loader_refuses_checkpoint_of_other_width(tmp_path):
    from fgvc_aam_tools import visualization
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.base_channels = 16  # another width
    cfg.model.head.in_channels = 128
    wide = MODELS.build(cfg.model)
    path = str(tmp_path / 'wide.pth')
    torch.save({'state_dict': wide.state_dict()}, path)
    with pytest.raises(_mismatch_error()) as info:
        visualization.load_model(CONFIG, path)
    assert ('backbone.layer1.0.conv1.weight: checkpoint (16, 64, 3, 3) vs '
            'model (8, 64, 3, 3)') in str(info.value)


def _wide_checkpoint(tmp_path) -> str:
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.base_channels = 16  # another width
    cfg.model.head.in_channels = 128
    path = str(tmp_path / 'wide.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return path


def test_inferencer_refuses_checkpoint_of_other_width(tmp_path):
    """FGVCInferencer (the demo's path) is built through the same fitting
    loader: upstream's get_model would load this non-strictly (warnings
    only) and predict with random layers."""
    from projects.fgvc_aam.apis import FGVCInferencer
    path = _wide_checkpoint(tmp_path)
    with pytest.raises(_mismatch_error(), match=r'backbone\.layer1'):
        FGVCInferencer(CONFIG, pretrained=path, device='cpu')
    with pytest.raises(_mismatch_error(), match=r'backbone\.layer1'):
        FGVCInferencer(Config.fromfile(CONFIG), pretrained=path)


def test_onnx_export_refuses_checkpoint_of_other_width(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx', osp.join(ROOT, 'tools', 'deployment',
                                 'pytorch2onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(_mismatch_error(), match=r'backbone\.layer1'):
        tool.build(CONFIG, _wide_checkpoint(tmp_path))

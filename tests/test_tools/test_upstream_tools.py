"""MMPretrain's own tools (the copies installed with mmpretrain, under
``mmpretrain/.mim/tools``) on our configs and checkpoints, run as a user
runs them; plus our model index in ``list_models`` / ``get_model``."""
import glob
import importlib.util
import os.path as osp
import re
from unittest.mock import MagicMock

import pytest
import torch

from tests.helpers import (ROOT, data_options, python_tool,
                           two_branch_model_names)

pytestmark = pytest.mark.slow

CONFIG = 'tests/configs/tiny_dist_two_branch.py'


def upstream(path: str) -> str:
    import mmpretrain
    return osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools', path)


@pytest.fixture(scope='module')
def run_dir(synthetic_root, tmp_path_factory):
    """One epoch of the tiny two-branch model: checkpoint + json log."""
    work = str(tmp_path_factory.mktemp('upstream_run'))
    python_tool('tools/train.py', CONFIG, '--work-dir', work,
                '--cfg-options', 'train_cfg.max_epochs=1',
                *data_options(synthetic_root, 4))
    return work


@pytest.mark.e2e
def test_publish_model_on_our_checkpoint(run_dir, tmp_path):
    """Oracle: the training checkpoint's state_dict (torch.load); the
    published file keeps only meta and weights."""
    ckpt = osp.join(run_dir, 'epoch_1.pth')
    out = str(tmp_path / 'published.pth')
    python_tool(upstream('model_converters/publish_model.py'), ckpt, out)
    published = glob.glob(str(tmp_path / 'published_*.pth'))
    assert len(published) == 1
    assert sorted(torch.load(published[0], weights_only=True)) == [
        'meta', 'state_dict']
    original = torch.load(ckpt, weights_only=True)['state_dict']
    got = torch.load(published[0], weights_only=True)['state_dict']
    assert original.keys() == got.keys()
    assert all(torch.equal(original[k], got[k]) for k in original)


@pytest.mark.e2e
def test_get_flops_counts_our_model():
    """Oracle: the parameter count of the model built in-process."""
    import projects.fgvc_aam  # noqa: F401
    from mmpretrain.apis import get_model
    proc = python_tool(upstream('analysis_tools/get_flops.py'), CONFIG,
                       '--shape', '64')
    params = sum(p.numel() for p in get_model(CONFIG).parameters())
    shown = re.search(r'Params: ([\d.]+)M', proc.stdout).group(1)
    assert float(shown) == pytest.approx(params / 1e6, abs=5e-4)
    assert float(re.search(r'Flops: ([\d.]+)', proc.stdout).group(1)) > 0


@pytest.mark.e2e
def test_analyze_logs_reads_our_json_log(run_dir, tmp_path):
    log = glob.glob(osp.join(run_dir, '*', 'vis_data', '2*.json'))
    assert len(log) == 1
    out = str(tmp_path / 'loss.png')
    proc = python_tool(upstream('analysis_tools/analyze_logs.py'),
                       'plot_curve', log[0], '--keys', 'loss', 'loss_raw',
                       '--out', out)
    assert f'save curve to: {out}' in proc.stdout and osp.getsize(out) > 0


@pytest.mark.e2e
def test_browse_dataset_original_mode(synthetic_root, tmp_path):
    """`-m original` (the other modes fail inside matplotlib >= 3.10 in
    upstream's make_grid, whatever the config)."""
    out = tmp_path / 'browse'
    python_tool(upstream('visualization/browse_dataset.py'),
                'configs/quickstart.py', '-o', str(out), '-n', '3', '-m',
                'original', '--cfg-options',
                f'train_dataloader.dataset.data_root={synthetic_root}')
    assert len(list(out.iterdir())) == 3


def test_vis_scheduler_simulates_group_lrs(tmp_path):
    """Our tools/visualization/vis_scheduler.py runs upstream's simulation
    on a config with GroupMultiStepLR (named groups) and MarginScheduleHook.
    Oracle: the recipe of configs/_base_/schedules/fgvc_finetune_bs16_100e
    (backbone lr 0.001, x0.1 from epoch 60)."""
    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location(
        'our_vis_scheduler',
        osp.join(ROOT, 'tools/visualization/vis_scheduler.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    import projects.fgvc_aam  # noqa: F401
    cfg = Config.fromfile(
        'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py')
    cfg.work_dir = str(tmp_path)
    cfg.log_level = 'WARNING'

    class FakeDataloader(list):
        dataset = MagicMock(metainfo=None)

    lrs = tool.upstream.simulate_train(FakeDataloader(range(2)), cfg,
                                       True)['lr']
    assert len(lrs) == 2 * 100
    assert lrs[:120] == pytest.approx([1e-3] * 120)
    assert lrs[120:] == pytest.approx([1e-4] * 80)


def test_list_models_and_get_model_find_ours():
    """Oracle: the two-branch names in the metafiles model-index.yml
    imports (configs/two_branch/ and configs/mechanism/)."""
    import projects.fgvc_aam  # noqa: F401
    from mmpretrain import get_model, list_models
    names = two_branch_model_names()
    assert len(names) > 20
    assert list_models('*two-branch*') == names
    model = get_model(
        'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc')
    assert type(model).__name__ == 'TwoBranchClassifier'
    # built with the config's data_preprocessor, as the Runner does
    assert model.data_preprocessor.std.flatten().tolist() == pytest.approx(
        [58.395, 57.12, 57.375])


@pytest.mark.e2e
def test_vis_scheduler_draws_every_group_and_the_margin(tmp_path):
    """``-p lr`` (default) draws both named groups and the margin. Oracle:
    the recipe of the config (backbone lr 1e-3, x0.1 from epoch 61; head
    lr 1e-2, x0.1 from epochs 51 and 76; margin 0.25 from epoch 31, 0.5
    from epoch 61), 160 images / batch 8 = 20 iterations per epoch."""
    import cv2
    out = str(tmp_path / 'lr.png')
    proc = python_tool(
        'tools/visualization/vis_scheduler.py',
        'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py',
        '--dataset-size', '160', '--save-path', out, '--not-show')
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('epoch')]
    assert lines == [
        'epoch    1: margin=0.0000  lr[backbone]=0.001  lr[head]=0.01',
        'epoch   31: margin=0.2500  lr[backbone]=0.001  lr[head]=0.01',
        'epoch   51: margin=0.2500  lr[backbone]=0.001  lr[head]=0.001',
        'epoch   61: margin=0.5000  lr[backbone]=0.0001  lr[head]=0.001',
        'epoch   76: margin=0.5000  lr[backbone]=0.0001  lr[head]=0.0001',
    ]
    assert '20 iterations per epoch' in proc.stdout
    assert cv2.imread(out).shape[:2] == (640, 800)  # margin + lr panels
    again = python_tool(
        'tools/visualization/vis_scheduler.py',
        'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py',
        '--dataset-size', '160', '--save-path', out, check=False)
    assert again.returncode != 0 and 'exists' in again.stderr

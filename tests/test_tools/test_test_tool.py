"""tools/test.py in process (issue 25): MMPretrain's flags have MMPretrain's
effects on the runner our own main loop builds (``--out`` /
``--out-item``, ``--show-dir``, ``--tta``, the checkpoint), with a runner
that records instead of testing. The end-to-end runs are in
``test_train_test_tools.py``."""
import json
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.evaluator import DumpResults

from tests.helpers import TINY_CONFIG, data_options, load_tool

METRICS = {'accuracy/top1': 50.0}


class RecordingRunner:
    """``Runner.from_cfg`` that keeps the config; ``test()`` returns
    :data:`METRICS`."""
    built = []

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.test_evaluator = SimpleNamespace(metrics=[])
        self.tested = False

    @classmethod
    def from_cfg(cls, cfg):
        runner = cls(cfg)
        cls.built.append(runner)
        return runner

    def test(self) -> dict:
        self.tested = True
        return dict(METRICS)


@pytest.fixture
def run_tool(monkeypatch, synthetic_data, tmp_path):
    """``run_tool(*flags)``: tools/test.py's main() on the tiny config and
    a checkpoint file; returns the runner it built."""
    root, num_classes = synthetic_data
    checkpoint = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': {}}, checkpoint)
    tool = load_tool('tools/test.py')
    monkeypatch.setenv('FGVC_AAM_CACHING_MALLOC', '0')
    monkeypatch.setattr(tool, 'Runner', RecordingRunner)

    def run(*flags: str) -> RecordingRunner:
        RecordingRunner.built = []
        monkeypatch.setattr(sys, 'argv', [
            'tools/test.py', TINY_CONFIG, checkpoint, '--work-dir',
            str(tmp_path / 'work'), *flags, '--cfg-options',
            *data_options(root, num_classes)
        ])
        tool.main()
        (runner, ) = RecordingRunner.built
        assert runner.tested
        assert runner.cfg.load_from == checkpoint
        return runner

    return run


def test_out_dumps_predictions_by_default(run_tool, tmp_path):
    out = str(tmp_path / 'preds.pkl')
    runner = run_tool('--out', out)
    (dump, ) = runner.test_evaluator.metrics
    assert isinstance(dump, DumpResults) and dump.out_file_path == out
    assert not osp.exists(out)  # written by the evaluator, not here


def test_out_item_metrics_dumps_what_the_test_returned(run_tool, tmp_path):
    out = str(tmp_path / 'metrics.json')
    runner = run_tool('--out', out, '--out-item', 'metrics')
    assert runner.test_evaluator.metrics == []
    with open(out) as f:
        assert json.load(f) == METRICS


def test_without_out_nothing_is_dumped(run_tool, tmp_path):
    runner = run_tool()
    assert runner.test_evaluator.metrics == []


def test_show_dir_and_tta_reach_the_config(run_tool, tmp_path):
    """Oracle: MMPretrain's merge_args (visualization hook enabled with the
    folder and interval; flip TTA around the model)."""
    show = str(tmp_path / 'shown')
    cfg = run_tool('--show-dir', show, '--interval', '3', '--tta').cfg
    vis = cfg.default_hooks.visualization
    assert vis.enable is True and vis.out_dir == show and vis.interval == 3
    assert cfg.model.type == 'mmpretrain.AverageClsScoreTTA'
    assert cfg.test_dataloader.dataset.pipeline[-1].type == 'TestTimeAug'


def test_the_run_gets_its_own_folder_and_our_fixes(run_tool, tmp_path):
    cfg = run_tool().cfg
    assert osp.dirname(cfg.work_dir) == str(tmp_path / 'work')
    assert osp.basename(cfg.work_dir).startswith('test_')
    assert osp.isdir(cfg.work_dir)
    fit = [h for h in list(cfg.default_hooks.values()) +
           list(cfg.get('custom_hooks') or [])
           if h and h.get('type') == 'CheckpointFitHook']
    # prepare_runtime ran: it sets the fit check's allow_partial
    assert [h.get('allow_partial') for h in fit] == [False]

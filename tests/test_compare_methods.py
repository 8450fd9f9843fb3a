"""tools/analysis_tools/compare_methods.py: budget overrides, log parsing,
aggregation, and one end-to-end run (slow)."""
import csv
import glob
import importlib.util
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    'compare_methods',
    osp.join(ROOT, 'tools', 'analysis_tools', 'compare_methods.py'))
cm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cm)

SYN = 'configs/aam/aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py'
TWO = ('configs/two_branch/'
       'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py')
BASE = 'configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py'


def args(*argv):
    return cm.parse_args(list(argv))


def test_rescale_epochs_scales_every_epoch_milestone():
    cfg = Config(dict(
        train_cfg=dict(by_epoch=True, max_epochs=10, val_interval=1),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=True, begin=0, end=1),
            dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=10),
            dict(type='MultiStepLR', milestones=[5, 8]),
            dict(type='GroupMultiStepLR',
                 milestones=dict(backbone=[6], head=[5, 7])),
        ],
        custom_hooks=[
            dict(type='MarginScheduleHook', k1=3, k2=6),
            dict(type='NonFiniteLossHook'),
        ]))
    cm.rescale_epochs(cfg, 20)
    s = cfg.param_scheduler
    assert (s[0].begin, s[0].end) == (0, 2)
    assert (s[1].begin, s[1].end) == (2, 20)
    assert s[2].milestones == [10, 16]
    assert s[3].milestones == dict(backbone=[12], head=[10, 14])
    assert (cfg.custom_hooks[0].k1, cfg.custom_hooks[0].k2) == (6, 12)
    assert cfg.train_cfg.max_epochs == 20
    # Shrinking keeps the margin milestones exact (floats), so k1 < k2.
    cm.rescale_epochs(cfg, 2)
    assert (cfg.custom_hooks[0].k1, cfg.custom_hooks[0].k2) == (0.6, 1.2)
    assert s[0].end >= s[0].begin + 1


def test_effective_config_applies_the_shared_budget(tmp_path):
    a = args(SYN, '--epochs', '12', '--input-size', '96', '--batch-size',
             '8', '--margin-overflow', 'monotonic')
    cfg = cm.effective_config(SYN, 3, a, str(tmp_path), 10)
    assert cfg.train_cfg.max_epochs == 12 and cfg.train_cfg.val_interval == 12
    assert cfg.randomness.seed == 3
    assert cfg.model.head.num_classes == 10
    assert cfg.data_preprocessor.num_classes == 10
    assert cfg.model.head.overflow == 'monotonic'
    hook = [h for h in cfg.custom_hooks if h.type == 'MarginScheduleHook'][0]
    assert (hook.k1, hook.k2) == (3.6, 7.2)  # 3 and 6 of 10 epochs
    for name in cm.LOADERS:
        loader = cfg[name]
        assert loader.batch_size == 8 and loader.num_workers == 0
        assert loader.dataset.data_root == str(tmp_path)
        pipe = {t.type: t for t in loader.dataset.pipeline}
        # 144 -> 128 crop in the config becomes 108 -> 96.
        assert pipe['Resize'].scale == 108
        crop = pipe.get('CenterCrop') or pipe.get('BoxAwareRandomCrop')
        assert crop.crop_size == 96
    assert cm.input_shape_of(cfg) == (3, 96, 96)
    types = [e['type'] for e in cfg.val_evaluator]
    assert types == ['Accuracy', 'SingleLabelMetric']  # no boxes predicted
    assert cfg.val_evaluator[1]['average'] == 'macro'


def test_corloc_only_for_two_branch_models_and_top5_needs_5_classes():
    cfg = cm.effective_config(TWO, 0, args(TWO), None, None)
    assert [e['type'] for e in cfg.val_evaluator] == [
        'Accuracy', 'SingleLabelMetric', 'LocalizationMetric']
    cfg = cm.effective_config(BASE, 0, args(BASE), None, 4)
    assert cfg.val_evaluator[0]['topk'] == (1, )
    # Heads other than AngularMarginHead keep their arguments.
    cfg = cm.effective_config(BASE, 0, args(BASE, '--margin-overflow',
                                            'easy'), None, None)
    assert 'overflow' not in cfg.model.head


def test_summarise_log_reads_the_last_validation_and_steady_speed():
    recs = [
        dict(epoch=1, iter=10, time=9.0, loss=3.0, lr=0.1),
        dict(epoch=2, iter=20, time=0.5, loss=2.0, lr=0.1, memory=100),
        dict(epoch=2, iter=30, time=0.25, loss=1.5, lr=0.1, memory=300),
        dict(epoch=3, iter=40, time=0.4, loss=1.0, lr=0.1, memory=200),
        {'accuracy/top1': 10.0, 'step': 1},
        {'accuracy/top1': 50.0, 'accuracy/top5': 90.0,
         'single-label/recall': 48.0, 'localization/CorLoc': 70.0,
         'step': 3},
    ]
    out = cm.summarise_log(recs, images_per_iter=16)
    assert (out['top1'], out['top5'], out['class_mean'], out['corloc']) == (
        50.0, 90.0, 48.0, 70.0)
    assert out['eval_epoch'] == 3
    # median of 0.5, 0.25, 0.4 (the first epoch is warm-up) = 0.4
    assert out['train_img_per_s'] == pytest.approx(16 / 0.4)
    assert out['peak_cuda_mib'] == 300
    assert out['final_loss'] == 1.0


def test_aggregate_mean_std_and_welch_p():
    res = [dict(name='a', config='a.py', seed=s, top1=v, params=2e6)
           for s, v in enumerate([1.0, 2.0, 3.0])]
    res += [dict(name='b', config='b.py', seed=s, top1=v, params=3e6)
            for s, v in enumerate([4.0, 5.0, 6.0])]
    res.append(dict(name='b', config='b.py', seed=9, returncode=1))
    rows = cm.aggregate(res, ['a', 'b'])
    a, b = rows
    assert (a['top1'], a['top1_std'], b['top1'], b['top1_std']) == (
        2.0, 1.0, 5.0, 1.0)
    assert b['params'] == pytest.approx(3.0) and b['failed'] == 1
    assert b['delta_top1'] == 3.0
    # Welch: t = 3 / sqrt(1/3 + 1/3) = 3.674, df = 4 -> p = 0.02131
    assert b['p_value'] == pytest.approx(0.02131, abs=1e-4)
    assert a['p_value'] is None


def test_literal_eq51_has_the_degenerate_minimum_the_default_avoids():
    """Why the synthetic (from-scratch) AAM / ArcFace siblings set
    ``overflow='monotonic'``: with every
    class weight equal and every feature at their antipode, literal
    ``cos(theta + m)`` gives the target ``-cos(m)`` > ``-1`` (the others),
    i.e. a loss of ``log(1 + (C - 1) exp(-s (1 - cos m)))`` at chance
    accuracy; ArcFace's fallback makes the same point cost ``> s m``."""
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    import projects.fgvc_aam  # noqa: F401
    num_classes, s, m = 16, 30.0, 0.5
    labels = torch.arange(num_classes)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    feats = -torch.ones(num_classes, 8)  # every feature at the antipode
    losses = {}
    for overflow in ('literal', 'monotonic'):
        head = MODELS.build(dict(
            type='AngularMarginHead', num_classes=num_classes,
            in_channels=8, scale=s, margins=m, overflow=overflow))
        with torch.no_grad():
            head.norm_product.weight.fill_(1.0)  # class weights collapsed
        losses[overflow] = float(head.loss((feats, ), samples)['loss'])
    expected = math.log(1 + (num_classes - 1) * math.exp(-s * (1 - math.cos(
        m))))
    # (within 1 %: the head's gradient-safe sin(theta) is not exactly 0)
    assert losses['literal'] == pytest.approx(expected, rel=1e-2)
    assert expected < 0.33  # below a well-trained softmax's typical loss
    assert losses['monotonic'] > s * m * math.sin(m)
    for path in glob.glob(osp.join(ROOT, 'configs', '*',
                                   '*_synthetic-fgvc.py')):
        head = Config.fromfile(path).model.head
        if head.type == 'AngularMarginHead':
            assert head.overflow == 'monotonic', path


@pytest.mark.slow
def test_end_to_end_two_configs_resumable(tmp_path):
    work = str(tmp_path / 'cmp')
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools',
                                    'compare_methods.py'), BASE, TWO,
           '--work-dir', work, '--seeds', '0', '--epochs', '1',
           '--input-size', '48', '--synthetic-params', 'num_classes=4',
           'images_per_class=6', 'train_per_class=4', 'image_size=48']
    env = dict(PYTHONPATH=ROOT, OMP_NUM_THREADS='1',
               PATH='/usr/bin:/bin')
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert '2 runs: 0 finished before, 2 to train' in first.stdout
    assert 'epoch 1/1' in first.stdout  # progress lines
    for ext in ('.md', '.csv', '_runs.csv', '.png'):
        assert osp.getsize(osp.join(work, 'comparison' + ext)) > 0
    with open(osp.join(work, 'comparison.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['method'] for r in rows] == [
        'softmax baseline', 'two-branch AAM step (thesis)']
    for row in rows:
        assert 0 <= float(row['top1']) <= 100
        assert float(row['train_img_per_s']) > 0
        assert float(row['peak_mem_mib']) > 100  # RSS of a torch process
    assert rows[0]['corloc'] == '' and 0 <= float(rows[1]['corloc']) <= 100
    # Two passes of the same backbone: at least twice the FLOPs.
    assert float(rows[1]['flops']) > 2 * float(rows[0]['flops'])
    with open(osp.join(work, 'runs', osp.basename(BASE)[:-3], 'seed_0',
                       'result.json')) as f:
        assert json.load(f)['eval_epoch'] == 1
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0
    assert '2 runs: 2 finished before, 0 to train' in again.stdout
    with open(osp.join(work, 'comparison.csv')) as f:
        assert list(csv.DictReader(f)) == rows

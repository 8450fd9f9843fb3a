"""tools/analysis_tools/compare_methods.py and its package
fgvc_aam_tools.compare: budget overrides, regimes and plans, log
parsing, statistics and selection, and end-to-end runs (slow)."""
import csv
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from fgvc_aam_tools.compare import budget, cli, plans, pretrain, report, runs
from tests.helpers import ROOT

SYN = 'configs/aam/aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py'
TWO = ('configs/two_branch/'
       'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py')
BASE = 'configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py'


def args(*argv):
    return cli.parse_args(list(argv))


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
    budget.rescale_epochs(cfg, 20)
    s = cfg.param_scheduler
    assert (s[0].begin, s[0].end) == (0, 2)
    assert (s[1].begin, s[1].end) == (2, 20)
    assert s[2].milestones == [10, 16]
    assert s[3].milestones == dict(backbone=[12], head=[10, 14])
    assert (cfg.custom_hooks[0].k1, cfg.custom_hooks[0].k2) == (6, 12)
    assert cfg.train_cfg.max_epochs == 20
    # Shrinking keeps the margin milestones exact (floats), so k1 < k2.
    budget.rescale_epochs(cfg, 2)
    assert (cfg.custom_hooks[0].k1, cfg.custom_hooks[0].k2) == (0.6, 1.2)
    assert s[0].end >= s[0].begin + 1


def test_effective_config_applies_the_shared_budget(tmp_path):
    a = args(SYN, '--epochs', '12', '--input-size', '96', '--batch-size',
             '8', '--margin-overflow', 'monotonic')
    cfg = plans.effective_config(SYN, 3, a, str(tmp_path), 10)
    assert cfg.train_cfg.max_epochs == 12 and cfg.train_cfg.val_interval == 12
    assert cfg.randomness.seed == 3
    assert cfg.model.head.num_classes == 10
    assert cfg.data_preprocessor.num_classes == 10
    assert cfg.model.head.overflow == 'monotonic'
    hook = [h for h in cfg.custom_hooks if h.type == 'MarginScheduleHook'][0]
    assert (hook.k1, hook.k2) == (3.6, 7.2)  # 3 and 6 of 10 epochs
    for name in budget.LOADERS:
        loader = cfg[name]
        assert loader.batch_size == 8 and loader.num_workers == 0
        assert loader.dataset.data_root == str(tmp_path)
        pipe = {t.type: t for t in loader.dataset.pipeline}
        # 144 -> 128 crop in the config becomes 108 -> 96.
        assert pipe['Resize'].scale == 108
        crop = pipe.get('CenterCrop') or pipe.get('BoxAwareRandomCrop')
        assert crop.crop_size == 96
    assert budget.input_shape_of(cfg) == (3, 96, 96)
    types = [e['type'] for e in cfg.val_evaluator]
    assert types == ['Accuracy', 'SingleLabelMetric']  # no boxes predicted
    assert cfg.val_evaluator[1]['average'] == 'macro'


def test_corloc_only_for_two_branch_models_and_top5_needs_5_classes():
    cfg = plans.effective_config(TWO, 0, args(TWO), None, None)
    assert [e['type'] for e in cfg.val_evaluator] == [
        'Accuracy', 'SingleLabelMetric', 'LocalizationMetric']
    cfg = plans.effective_config(BASE, 0, args(BASE), None, 4)
    assert cfg.val_evaluator[0]['topk'] == (1, )
    # Heads other than AngularMarginHead keep their arguments.
    cfg = plans.effective_config(BASE, 0, args(BASE, '--margin-overflow',
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
    out = runs.summarise_log(recs, images_per_iter=16)
    assert (out['top1'], out['top5'], out['class_mean'], out['corloc']) == (
        50.0, 90.0, 48.0, 70.0)
    assert out['eval_epoch'] == 3
    # median of 0.5, 0.25, 0.4 (the first epoch is warm-up) = 0.4
    assert out['train_img_per_s'] == pytest.approx(16 / 0.4)
    assert out['peak_cuda_mib'] == 300
    assert out['final_loss'] == 1.0


def test_aggregate_mean_std_and_welch_p():
    # seeds that do not pair up (0-2 vs 3-5): Welch's unpaired test
    res = [dict(name='a', config='a.py', seed=s, top1=v, params=2e6)
           for s, v in enumerate([1.0, 2.0, 3.0])]
    res += [dict(name='b', config='b.py', seed=s + 3, top1=v, params=3e6)
            for s, v in enumerate([4.0, 5.0, 6.0])]
    res.append(dict(name='b', config='b.py', seed=9, returncode=1))
    rows = report.aggregate(res, ['a', 'b'])
    a, b = rows
    assert (a['top1'], a['top1_std'], b['top1'], b['top1_std']) == (
        2.0, 1.0, 5.0, 1.0)
    assert b['params'] == pytest.approx(3.0) and b['failed'] == 1
    assert b['delta_top1'] == 3.0
    # Welch: t = 3 / sqrt(1/3 + 1/3) = 3.674, df = 4 -> p = 0.02131
    assert b['p_value'] == pytest.approx(0.02131, abs=1e-4)
    assert b['p_test'] == 'Welch'
    assert a['p_value'] is None


def _runs(name, values, seeds=(0, 1, 2)):
    return [dict(name=name, config=f'{name}.py', seed=s, top1=v)
            for s, v in zip(seeds, values)]


def test_runs_with_the_same_seeds_are_tested_paired():
    """Oracle: scipy.stats directly. The seed effect (60 / 70 / 80) is
    shared, so the paired test sees a 0.97-point difference that Welch's
    test drowns in the spread between seeds."""
    from scipy import stats
    a, b = [60.0, 70.0, 80.0], [59.0, 69.2, 78.9]
    rows = report.aggregate(_runs('b', b) + _runs('a', a), ['b', 'a'])
    paired = stats.ttest_rel(a, b).pvalue
    welch = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert paired < 0.05 < welch
    assert rows[1]['p_value'] == pytest.approx(paired)
    assert rows[1]['p_test'] == 'paired t'
    # pairs follow the seed, not the order of the runs
    shuffled = _runs('b', b[::-1], seeds=(2, 1, 0)) + _runs('a', a)
    assert report.aggregate(shuffled, ['b', 'a'])[1]['p_value'] == (
        pytest.approx(paired))
    # a failed run: the seeds no longer pair up -> Welch on what is there
    failed = _runs('b', b) + _runs('a', a) + [
        dict(name='b', config='b.py', seed=3, returncode=1),
        dict(name='a', config='a.py', seed=3, top1=90.0)]
    row = report.aggregate(failed, ['b', 'a'])[1]
    assert row['p_test'] == 'Welch'
    assert row['p_value'] == pytest.approx(
        stats.ttest_ind(a + [90.0], b, equal_var=False).pvalue)


def test_claims_negative_difference_within_noise_is_a_tie_not_holds():
    """Hand-made run tables through aggregate and claims: "step >= linear"
    with step 1.25 below linear, paired p = 0.40 -> "tie (-1.25)", never
    "holds"; test branches of the same checkpoints are tested paired."""
    from scipy import stats
    step, linear = [70.0, 68.0, 69.0], [69.5, 71.5, 69.75]
    raw, summed = [50.0, 40.0, 45.0], [52.0, 42.0, 46.5]
    res = (_runs('AAM step', step) + _runs('AAM linear', linear) +
           _runs('test_branch=raw', raw) + _runs('test_branch=sum', summed))
    rows = report.aggregate(res, ['AAM step', 'AAM linear',
                                  'test_branch=raw', 'test_branch=sum'])
    found = {c['claim']: c for c in report.claims(rows)}
    assert set(found) == {'step >= linear', 'sum >= raw'}
    c = found['step >= linear']
    assert c['diff'] == pytest.approx(-1.25)
    assert c['p'] == pytest.approx(stats.ttest_rel(step, linear).pvalue)
    assert c['p'] >= 0.05 and c['test'] == 'paired t'
    assert c['verdict'] == 'tie (-1.25)'
    c = found['sum >= raw']  # +1.83, paired p = 0.008 (Welch: 0.68)
    assert c['p'] == pytest.approx(stats.ttest_rel(summed, raw).pvalue)
    assert c['p'] < 0.05 < stats.ttest_ind(summed, raw,
                                           equal_var=False).pvalue
    assert c['verdict'] == 'holds'
    assert report.verdict(0.5, 0.2) == 'tie (+0.50)'
    assert report.verdict(-2.0, None) == 'tie (-2.00)'


def test_claims_file_states_the_number_of_comparisons(tmp_path):
    found = [dict(claim=f'c{i}', diff=1.0, p=0.5, test='paired t', n='3',
                  verdict='tie (+1.00)') for i in range(4)]
    md = report.write_claims(found, str(tmp_path / 'claims.md'))
    assert (tmp_path / 'claims.md').read_text() == md
    assert [ln[:5] for ln in md.splitlines()[2:6]] == [
        '| c0 ', '| c1 ', '| c2 ', '| c3 ']
    assert '4 comparisons' in md and 'no multiplicity correction' in md


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
            in_channels=8, scale=s, margin=m, overflow=overflow))
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
@pytest.mark.e2e
def test_end_to_end_two_configs_resumable(tmp_path):
    work = str(tmp_path / 'cmp')
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools',
                                    'compare_methods.py'), BASE, TWO,
           '--regime', 'scratch',
           '--work-dir', work, '--seeds', '0', '--epochs', '1',
           '--input-size', '48', '--synthetic-params', 'num_classes=4',
           'images_per_class=6', 'train_per_class=4', 'image_size=48']
    env = dict(OMP_NUM_THREADS='1', PATH='/usr/bin:/bin')
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


# --------------------------------------------------------------------------
# Regimes, plans, selection
# --------------------------------------------------------------------------
def _flat(d, pre=''):
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flat(v, f'{pre}{k}.'))
        return out
    return {pre[:-1]: d}


def _delta(src: Config, eff: Config) -> dict:
    a, b = _flat(src.to_dict()), _flat(eff.to_dict())
    d = {k: b[k] for k in b if k not in a or a[k] != b[k]}
    d.update({k: '<removed>' for k in a if k not in b})
    return json.loads(json.dumps(d, default=list, sort_keys=True))


def test_scratch_regime_keeps_the_effective_configs_of_the_old_tool():
    """Oracle: what the tool wrote before regimes existed (commit 501b04f),
    recorded as the change from each source config to its effective config
    (tests/data/compare_scratch_effective_deltas.json), so that edits of
    the method configs themselves do not matter."""
    with open(osp.join(ROOT, 'tests', 'data',
                       'compare_scratch_effective_deltas.json')) as f:
        golden = json.load(f)
    g = golden['args']
    a = args('--regime', 'scratch')
    a.epochs, a.input_size = (plans.REGIMES['scratch']['epochs'],
                              plans.REGIMES['scratch']['input_size'])
    a.carve = plans.REGIMES['scratch']['carve']
    assert (a.epochs, a.input_size) == (g['epochs'], g['input_size'])
    assert sorted(plans.REGIMES['scratch']['configs']) == sorted(golden[
        'deltas'])
    for config, expected in golden['deltas'].items():
        eff = plans.effective_config(config, g['seed'], a, g['data_root'],
                                     g['num_classes'])
        src = Config.fromfile(osp.join(ROOT, config))
        assert _delta(src, eff) == expected, config


def test_finetune_dry_run_loads_the_pretrained_backbone_and_carves(
        tmp_path):
    work, pre = str(tmp_path / 'ft'), str(tmp_path / 'pre')
    rc = cli.main(['--dry-run', '--work-dir', work, '--pretrain-root', pre,
                   '--seeds', '0', '--synthetic-params', 'num_classes=4',
                   'images_per_class=5', 'train_per_class=4',
                   'image_size=32'])
    assert rc == 0
    ckpt, done = pretrain.cached_checkpoint(pre)
    assert not done and ckpt.startswith(pre)  # nothing trained
    cfgs = sorted(glob.glob(osp.join(work, 'runs', '*', 'seed_0', '*.py')))
    assert len(cfgs) == 9
    for path in cfgs:
        cfg = Config.fromfile(path)
        assert 'synpre' in path
        init = cfg.model.backbone.init_cfg
        assert (init.type, init.checkpoint, init.prefix) == (
            'Pretrained', ckpt, 'backbone')
        train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
        assert (train.type, train.part, val.type, val.part) == (
            'CarvedSplit', 'train', 'CarvedSplit', 'val')
        assert train.dataset.split == val.dataset.split == 'train'
        assert cfg.test_dataloader.dataset.split == 'test'
        # the val part is read with the test-time pipeline
        assert val.dataset.pipeline == cfg.test_dataloader.dataset.pipeline
        assert cfg.train_cfg.max_epochs == plans.REGIMES['finetune'][
            'epochs']
        assert budget.input_shape_of(cfg) == (3, 96, 96)
        assert cfg.default_hooks.checkpoint.save_best is None


def test_finetune_configs_follow_the_scaled_thesis_recipe():
    """Head lr = 10 x backbone lr; backbone decay at 60% of the epochs,
    head at 50% and 75%; margin steps at 30% and 60% (Table 9 runs)."""
    for config in plans.REGIMES['finetune']['configs']:
        cfg = Config.fromfile(osp.join(ROOT, config))
        n = cfg.train_cfg.max_epochs
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys[
            'head'].lr_mult == 10.0
        ms = cfg.param_scheduler.milestones
        assert ms['backbone'] == [round(0.6 * n)]
        assert ms['head'] == [round(0.5 * n), round(0.75 * n)]
        assert pretrained_of_cfg(cfg) == pretrain.STABLE_PATH
        for hook in cfg.custom_hooks:
            if hook.type == 'MarginScheduleHook' and 'k1' in hook:
                assert (hook.k1, hook.k2) == (0.3 * n, 0.6 * n)


def pretrained_of_cfg(cfg):
    return budget.pretrained_of(cfg)


def test_sweep_plans_share_the_default_run_where_nothing_changes(tmp_path):
    common = ['--work-dir', str(tmp_path), '--seeds', '1', '--dry-run',
              '--synthetic-params', 'num_classes=4', 'images_per_class=5',
              'train_per_class=4', 'image_size=32']
    two = plans.thesis_config('finetune')
    default = plans.plan(args(two, *common))  # the default plan's runs
    thesis = {r['seed']: r['run_dir'] for r in default}

    def sweep(name):
        rs = plans.plan(args(*common, '--plan', name))
        return {(r['name'], r['seed']): r for r in rs}

    over = sweep('overflow')
    assert sorted({n for n, _ in over}) == ['overflow=literal',
                                             'overflow=monotonic']
    for s in (1, ):  # the config's own value is the default run
        assert over[('overflow=monotonic', s)]['run_dir'] == thesis[s]
        lit = over[('overflow=literal', s)]
        assert lit['run_dir'] != thesis[s] and '@overflow=literal' in lit[
            'run_dir']
        assert Config.fromfile(lit['cfg_path']).model.head.overflow == (
            'literal')
    scale = sweep('scale')
    assert scale[('s=30', 1)]['run_dir'] == thesis[1]
    assert Config.fromfile(scale[('s=64', 1)]['cfg_path']).model.head[
        'scale'] == 64.0
    tb = sweep('test_branch')
    for b in ('raw', 'object', 'sum'):  # evaluated, never trained apart
        assert tb[(f'test_branch={b}', 1)]['run_dir'] == thesis[1]
        assert tb[(f'test_branch={b}', 1)]['branch'] == b
        assert tb[(f'test_branch={b}', 1)]['branches'] == plans.BRANCHES
    with pytest.raises(ValueError, match='test_branch plan'):
        plans.plan(args(*common, '--plan', 'test_branch', '--regime',
                        'scratch'))


def test_row_results_read_the_row_branch_test_and_val_metrics():
    ev = dict(own=dict(branch='sum', val=dict(top1=50.0),
                       test=dict(top1=40.0, corloc=9.0)),
              branches=dict(raw=dict(val=dict(top1=30.0),
                                     test=dict(top1=20.0))))
    res = [dict(run_dir='d', name='x', seed=0, config='c', top1=99.0,
                evaluation=ev)]
    rs = [dict(run_dir='d', name='own', seed=0, config='c', branch=None),
          dict(run_dir='d', name='raw', seed=0, config='c', branch='raw')]
    own, raw = cli.row_results(rs, res)
    # the test split, never the training-time validation (99.0)
    assert (own['top1'], own['val_top1'], own['corloc']) == (40.0, 50.0,
                                                              9.0)
    assert (raw['top1'], raw['val_top1'], raw['name']) == (20.0, 30.0,
                                                            'raw')


def test_selection_rule_keeps_a_tied_value_and_replaces_a_beaten_one():
    def row(name, vals):
        return dict(name=name, val_top1=sum(vals) / len(vals),
                    val_top1_values=vals)

    rows = [row('a', [50.0, 51.0, 52.0]), row('b', [51.0, 52.0, 53.0]),
            row('c', [60.0, 61.0, 62.0])]
    # c is best; a and b are below it with Welch t = 10 / sqrt(2/3),
    # df = 4: p = 2.6e-4 < 0.05 -> not tied
    sel = report.select(rows, current='a')
    assert (sel['best'], sel['choice'], sel['keep']) == ('c', 'c', False)
    assert sel['tied'] == ['c']
    assert sel['p'] == pytest.approx(2.6e-4, rel=0.05)
    # a vs b: t = 1 / sqrt(2/3) = 1.22, p = 0.29 -> tied, keep the current
    sel = report.select(rows[:2], current='a')
    assert (sel['best'], sel['choice'], sel['keep']) == ('b', 'a', True)
    assert sel['p'] == pytest.approx(0.288, abs=2e-3)


@pytest.mark.slow
@pytest.mark.e2e
def test_end_to_end_finetune_regime_with_a_cached_backbone(tmp_path,
                                                          capsys):
    """The finetune regime on tiny data: the cached pretrained checkpoint
    is used as is (no pretraining), every run is evaluated on the carved
    validation split and once on the test split, the two-branch run with
    each test branch; the sweep table and its selection come from the
    same runs."""
    from mmpretrain.registry import MODELS

    import projects.fgvc_aam  # noqa: F401
    pre = str(tmp_path / 'pre')
    ckpt, _ = pretrain.cached_checkpoint(pre)
    os.makedirs(osp.dirname(ckpt))
    cfg = Config.fromfile(osp.join(ROOT, pretrain.PRETRAIN_CONFIG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    two = plans.thesis_config('finetune')
    work = str(tmp_path / 'cmp')
    tiny = ['--work-dir', work, '--seeds', '0', '--epochs', '1',
            '--input-size', '48', '--pretrain-root', pre,
            '--synthetic-params', 'num_classes=4', 'images_per_class=8',
            'train_per_class=5', 'image_size=48']
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools',
                                    'compare_methods.py')]
    env = dict(OMP_NUM_THREADS='1', PATH='/usr/bin:/bin')
    first = subprocess.run(cmd + [two] + tiny, cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert f'pretrain: cached {ckpt}' in first.stdout
    with open(osp.join(work, 'comparison.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['method'] for r in rows] == ['two-branch AAM step (thesis)']
    assert 0 <= float(rows[0]['val_top1']) <= 100
    run = osp.join(work, 'runs', osp.splitext(osp.basename(two))[0],
                   'seed_0')
    with open(osp.join(run, 'result.json')) as f:
        res = json.load(f)
    ev = res['evaluation']
    assert sorted(ev['branches']) == ['object', 'raw', 'sum']
    assert ev['own']['branch'] == 'sum'
    assert ev['branches']['sum'] == dict(val=ev['own']['val'],
                                         test=ev['own']['test'])
    # 4 classes x 1 carved image (20% of 5) on val: multiples of 25 %
    assert ev['own']['val']['top1'] % 25 == pytest.approx(0, abs=1e-6)
    # the table reports the test split, not the training-time validation
    assert float(rows[0]['top1']) == pytest.approx(ev['own']['test']['top1'])
    assert res['top1'] == pytest.approx(ev['own']['val']['top1'])
    # The test_branch plan reads the same run: nothing is trained.
    assert cli.main([two, '--plan', 'test_branch'] + tiny) == 0
    assert '1 runs: 1 finished before, 0 to train' in capsys.readouterr().out
    with open(osp.join(work, 'comparison_test_branch.csv')) as f:
        tb = {r['method']: r for r in csv.DictReader(f)}
    for b in ('raw', 'object', 'sum'):
        assert float(tb[f'test_branch={b}']['top1']) == pytest.approx(
            ev['branches'][b]['test']['top1'])
    with open(osp.join(work, 'comparison_test_branch_selection.json')) as f:
        sel = json.load(f)
    assert sel['choice'] in ('test_branch=raw', 'test_branch=object',
                             'test_branch=sum')


def test_claims_verdicts_use_the_p_value_and_the_direction():
    def row(name, vals):
        return dict(name=name, top1=sum(vals) / len(vals),
                    top1_values=vals)

    rows = [row('AAM step', [60.0, 61.0, 62.0]),
            row('ArcFace (m = 0.5)', [50.0, 51.0, 52.0]),
            row('softmax baseline', [59.0, 61.0, 63.0]),
            row('AAM linear', [70.0, 71.0, 72.0])]
    found = {c['claim']: c for c in report.claims(rows)}
    assert set(found) == {'AAM (step) > ArcFace', 'ArcFace > softmax',
                          'AAM (step) > softmax', 'step >= linear'}
    # 10 points, t = 12.2, df = 4: p = 2.6e-4
    assert found['AAM (step) > ArcFace']['verdict'] == 'holds'
    assert found['ArcFace > softmax']['verdict'] == 'contradicted'
    assert found['AAM (step) > softmax']['verdict'] == 'tie (+0.00)'
    assert found['step >= linear']['verdict'] == 'contradicted'
    # a ">=" claim within noise is a tie with its sign, never "holds"
    assert report.verdict(-1.0, 0.4) == 'tie (-1.00)'


def test_only_trains_the_named_rows_and_refuses_unknown_ones(tmp_path,
                                                            capsys):
    two = plans.thesis_config('finetune')
    common = [two, '--plan', 'overflow', '--dry-run', '--seeds', '0',
              '--work-dir', str(tmp_path), '--pretrain-root',
              str(tmp_path / 'pre'), '--synthetic-params', 'num_classes=4',
              'images_per_class=5', 'train_per_class=4', 'image_size=32']
    assert cli.main(common + ['--only', 'overflow=literal']) == 0
    out = capsys.readouterr().out
    # one run to train (literal); the monotonic one is only reported
    assert '1 runs: 0 finished before, 1 to train' in out
    assert 'overflow=literal' in out
    with pytest.raises(ValueError, match='no such row'):
        cli.main(common + ['--only', 'overflow=easy'])


# --------------------------------------------------------------------------
# A run is done only when its metrics are written (issue 22)
# --------------------------------------------------------------------------
def _fake_run(tmp_path, monkeypatch, evaluation_script):
    """A scratch-regime run whose 'training' exits 0 and logs nothing (as a
    resume after a kill between the last checkpoint and the validation),
    and whose evaluation runs ``evaluation_script``."""
    run_dir = str(tmp_path / 'run')
    os.makedirs(run_dir)
    monkeypatch.setattr(runs, 'train_command',
                        lambda *a: [sys.executable, '-c', 'pass'])
    monkeypatch.setattr(runs, 'evaluate_command',
                        lambda run: [sys.executable, '-c',
                                     evaluation_script, run['run_dir']])
    run = dict(run_dir=run_dir, label='x', cfg_path='c.py', gpus=0,
               epochs=1, config='c.py', name='x', seed=0, signature='s',
               images_per_iter=4, complexity={}, key='x#0', jobs=1,
               evaluate=False)
    return run, osp.join(run_dir, 'result.json')


def test_run_without_metrics_is_not_done(tmp_path, monkeypatch):
    """On main such a run was written as done ("top-1 nan", a row of
    '-'), and only --retrain cleared it."""
    run, path = _fake_run(tmp_path, monkeypatch, 'import sys; sys.exit(3)')
    res = runs.execute(run, runs.Progress([run]), 1)
    assert res['returncode'] != 0
    assert not osp.exists(path)
    assert runs.run_all([run], 1, dry_run=True) == []  # still to do


def test_run_without_logged_metrics_is_evaluated(tmp_path, monkeypatch):
    script = ('import json, os, sys; json.dump(dict(own=dict(val=dict('
              'top1=42.5, top5=90.0))), open(os.path.join(sys.argv[1], '
              '"eval.json"), "w"))')
    run, path = _fake_run(tmp_path, monkeypatch, script)
    res = runs.execute(run, runs.Progress([run]), 1)
    assert res['returncode'] == 0
    with open(path) as f:
        written = json.load(f)
    assert (written['top1'], written['top5']) == (42.5, 90.0)
    assert [r['top1'] for r in runs.run_all([run], 1, dry_run=True)] == [
        42.5]


def test_metric_less_result_is_evaluated_again(tmp_path, monkeypatch):
    run, path = _fake_run(tmp_path, monkeypatch, 'pass')
    with open(path, 'w') as f:
        json.dump(dict(returncode=0, signature='s', final_loss=1.0), f)
    assert runs.run_all([run], 1, dry_run=True) == []  # in the to-do list


def test_truncated_result_names_the_file(tmp_path, monkeypatch):
    run, path = _fake_run(tmp_path, monkeypatch, 'pass')
    with open(path, 'w') as f:
        f.write('{"top1": 41.0, "config": "c.p')
    with pytest.raises(ValueError) as info:
        runs.run_all([run], 1, dry_run=True)
    assert path in str(info.value) and 'not a complete result' in str(
        info.value)
    with pytest.raises(ValueError, match=path):
        plans.prepare_run_dir(run['run_dir'], 's', retrain=False)


def test_result_is_written_atomically_never_through_a_link(tmp_path):
    from fgvc_aam_tools.compare.results import write_result
    path = str(tmp_path / 'result.json')
    write_result(path, dict(top1=1.0))
    with open(path) as f:
        assert json.load(f) == dict(top1=1.0)
    assert os.listdir(tmp_path) == ['result.json']  # no temporary left
    target = tmp_path / 'elsewhere.json'
    target.write_text('mine')
    os.remove(path)
    os.symlink(target, path)
    with pytest.raises(ValueError, match='symbolic link'):
        write_result(path, dict(top1=2.0))
    assert target.read_text() == 'mine'


def test_planning_again_leaves_a_run_config_alone(tmp_path):
    """A second plan (e.g. --report-only while Slurm jobs start) rewrote
    every run's config in place, and a job starting then read a half-written
    file (KeyError: 'model'). Now an unchanged config is not written again,
    and a changed one is renamed into place whole."""
    common = ['--work-dir', str(tmp_path), '--seeds', '0', '--dry-run',
              '--synthetic-params', 'num_classes=4', 'images_per_class=5',
              'train_per_class=4', 'image_size=32']
    cfg = plans.plan(args(plans.thesis_config('finetune'), *common))[0]
    before = os.stat(cfg['cfg_path'])
    again = plans.plan(args(plans.thesis_config('finetune'), *common))[0]
    after = os.stat(again['cfg_path'])
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino,
                                                 before.st_mtime_ns)
    # another budget: the new config, whole, and no partial file left
    other = plans.plan(args(plans.thesis_config('finetune'), *common,
                            '--epochs', '3'))[0]
    assert Config.fromfile(other['cfg_path']).train_cfg.max_epochs == 3
    assert not [f for f in os.listdir(osp.dirname(other['cfg_path']))
                if 'partial' in f]

"""compare_methods.py --plan mechanism: the study's rows, selections and
geometry, checked without training (dry run) and on hand-made records."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from fgvc_aam_tools.compare import cli, mechanism, pretrain, report
from tests.helpers import ROOT

TINY = ['--synthetic-params', 'num_classes=4', 'images_per_class=5',
        'train_per_class=4', 'image_size=32']


def test_best_by_validation_takes_the_highest_mean_then_the_first():
    recs = [dict(name='a', val_top1=50.), dict(name='a', val_top1=60.),
            dict(name='b', val_top1=56.), dict(name='b', val_top1=54.),
            dict(name='c', val_top1=55.), dict(name='c', val_top1=None)]
    sel = mechanism.best_by_validation(recs, ['a', 'b', 'c'])
    # means: a 55, b 55, c 55 (None ignored) -> exact tie: the first
    assert sel['val_top1'] == {'a': 55., 'b': 55., 'c': 55.}
    assert sel['choice'] == 'a'
    recs.append(dict(name='c', val_top1=58.))  # c: 56.5
    assert mechanism.best_by_validation(recs, ['a', 'b', 'c'])[
        'choice'] == 'c'
    with pytest.raises(ValueError, match='validation'):
        mechanism.best_by_validation([dict(name='a')], ['a'])


def test_every_claim_names_two_rows_of_the_ablation():
    names = {n for n, _, _ in mechanism.ROWS}
    for claim, a, b in mechanism.CLAIMS:
        assert a in names and b in names and a != b, claim


def test_claims_use_the_study_list_and_pair_by_seed():
    def row(name, vals):
        return dict(name=name, top1=sum(vals) / len(vals),
                    top1_values=vals,
                    top1_by_seed={s: v for s, v in enumerate(vals)})
    rows = [row('two-branch softmax, whole image', [60., 61., 62.]),
            row('single softmax', [59., 60.5, 60.])]
    found = report.claims(rows, claims=mechanism.CLAIMS)
    assert [c['claim'] for c in found] == [
        'doubled loss: whole image > single (softmax)']
    # oracle: differences 1.0, 0.5, 2.0 -> mean 1.1667, sd 0.7638, t 2.646
    from scipy import stats
    p = stats.ttest_rel([60., 61., 62.], [59., 60.5, 60.]).pvalue
    assert found[0]['test'] == 'paired t'
    assert found[0]['p'] == pytest.approx(p)
    assert found[0]['verdict'] == 'tie (+1.17)'  # p = 0.118


def test_dry_run_writes_every_stage_with_one_geometry(tmp_path,
                                                      monkeypatch):
    for name in ('SEEDS', 'LR_SEEDS', 'SCALE_SEEDS'):  # one seed: faster
        monkeypatch.setattr(mechanism, name, (1, ))
    work, pre = str(tmp_path / 'mech'), str(tmp_path / 'pre')
    rc = cli.main(['--plan', 'mechanism', '--dry-run', '--work-dir', work,
                   '--pretrain-root', pre, *TINY])
    assert rc == 0
    ckpt, done = pretrain.cached_checkpoint(
        pre, pretrain.OBJECTS_CONFIG,
        __import__('fgvc_aam_tools.synthetic_fgvc', fromlist=['x'])
        .OBJECTS_PRETRAIN_PARAMS)
    assert not done
    cfgs = glob.glob(osp.join(work, 'runs', '*', 'seed_*', '*.py'))
    folders = {osp.basename(osp.dirname(osp.dirname(p))) for p in cfgs}
    # 7 ablation configs + 3 other lrs x 2 losses + 2 other scales, and
    # the supplement's 3 other two-branch lrs x 2 losses, and the AOLM row
    assert len(folders) == 7 + 6 + 2 + 6 + 1
    seeds = {int(osp.basename(osp.dirname(p))[5:]) for p in cfgs}
    assert seeds == {1}
    strides = set()
    for path in cfgs:
        cfg = Config.fromfile(path)
        bb = cfg.model.backbone
        strides.add((bb.num_stages, tuple(bb.strides), tuple(bb.out_indices)))
        assert bb.init_cfg.checkpoint == ckpt  # the cached objects backbone
        assert cfg.train_dataloader.dataset.type == 'CarvedSplit'
        assert cfg.train_cfg.max_epochs == 12
        lr = cfg.optim_wrapper.optimizer.lr
        assert lr in [mechanism.BASE_LR * f for f in
                      mechanism.LR_FACTORS + mechanism.TWO_BRANCH_LR_FACTORS]
    # one geometry for all rows (the AOLM row also reads layer 2)
    assert strides == {(3, (1, 2, 1), (2, )), (3, (1, 2, 1), (1, 2))}


def test_the_backbone_gives_a_12x12_map_at_96_px():
    from mmpretrain.registry import MODELS

    import projects.fgvc_aam  # noqa: F401
    cfg = Config.fromfile(osp.join(ROOT, mechanism.SOFTMAX))
    bb = cfg.model.backbone
    bb.pop('init_cfg')
    model = MODELS.build(bb)
    out = model(torch.zeros(1, 3, 96, 96))[-1]
    assert tuple(out.shape) == (1, 64, 12, 12)
    pre = Config.fromfile(osp.join(ROOT, pretrain.OBJECTS_CONFIG))
    assert {k: v for k, v in pre.model.backbone.items()
            if k != 'init_cfg'} == {k: v for k, v in bb.items()}


def test_mechanism_plan_refuses_configs():
    with pytest.raises(SystemExit):
        cli.parse_args(['--plan', 'mechanism', 'configs/quickstart.py'])


def test_report_has_every_section_and_the_paired_claims(tmp_path):
    """write_report on hand-made records: the precondition rows, both
    selections, the ablation and the supplement with their claims."""
    recs = []
    for i, (name, _, _) in enumerate(mechanism.ROWS):
        for seed in range(3):
            recs.append(dict(name=name, config='c.py', seed=seed,
                             top1=40. + i + seed,
                             val_top1=41. + i, corloc=10. * seed,
                             returncode=0))
    pre = {'test': dict(rows={'model': dict(corloc=12., miou=33.),
                              'fixed box': dict(corloc=7., miou=14.)})}
    sel = dict(val_top1={'softmax lr x1': 50.}, factor=1.0, lr=0.005)
    out = dict(precondition=pre, lr_selection=dict(softmax=sel),
               scale_selection=dict(val_top1={'s=16': 37.5}, scale=16.0),
               two_branch_lr_selection=dict(softmax=dict(
                   val_top1={'two-branch softmax lr x0.25': 45.},
                   factor=0.25, lr=0.00125)),
               records=recs, supplement_records=recs)
    prefix = str(tmp_path / 'mechanism')
    md = mechanism.write_report(out, prefix, dict(epochs=12, input=96))
    for text in ('pretrained backbone + localizer | test | 12.00 | 33.00',
                 '**x1** (lr 0.005)', '**s = 16**',
                 'two-branch softmax: lr x0.25: 45.00 -> **x0.25**',
                 '## 4. Ablation', '## 5b. Ablation'):
        assert text in md, text
    # rows differ by a constant over the seeds: the paired test is
    # undefined (no spread), so every claim is a tie with its sign
    assert '| doubled loss: whole image > single (softmax) | +1.00 |' in md
    assert md.count('10 comparisons') == 2
    assert osp.isfile(prefix + '_supplement_claims.md')

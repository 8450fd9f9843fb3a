"""The mechanism study (``compare_methods.py --plan mechanism``).

Does the thesis's mechanism (the localizer's crop as a second branch, and
the AAM margin) help when its precondition holds, i.e. when the localizer
finds the object? One thing changes per comparison; the protocol below is
fixed before any method result (configs/mechanism/README.md):

1. **Precondition.** CorLoc and mean IoU of the channel-aggregation
   localizer on the object-pretrained backbone, before fine-tuning (on the
   carved validation split and the test split), next to the fixed-box,
   centre-box and whole-image baselines
   (``tools/analysis_tools/localizer_corloc.py``); after fine-tuning, the
   two-branch rows' test CorLoc.
2. **Learning rates.** For each loss (softmax; AAM step at s = 30), the
   base lr of the 12-epoch recipe times ``LR_FACTORS`` on the single-branch
   model, seeds ``LR_SEEDS``; the factor with the highest mean validation
   top-1 (carved split) is selected. The two-branch rows use their loss's
   rate.
3. **Scale.** Single-branch AAM step at the selected AAM lr, s in
   ``SCALES``, seeds ``SCALE_SEEDS``; the s with the highest mean
   validation top-1 is selected for every AAM row.
4. **Ablation.** ``ROWS`` at the selected lr (and s), seeds ``SEEDS``,
   tested once on the test split; :data:`CLAIMS` with paired t-tests over
   seeds.
5. **Supplement** (added after step 4's first runs showed the two-branch
   softmax rows unstable at the single-branch rate; fixed before its own
   runs): the two-branch model's lr per loss, selected alike on the
   localizer rows (``TWO_BRANCH_LR_FACTORS``, seeds ``LR_SEEDS``), and
   step 4 again with every two-branch row at its loss's two-branch rate
   (the single-branch rows are step 4's runs).
6. **AOLM** (exploratory; added after the supplement's protocol, on a look
   at one step-4 checkpoint's validation CorLoc, fixed before its runs):
   the thesis row with MMAL-Net's AOLM box rule (the last map's mask
   intersected with layer 2's) against the thesis row, both at the
   two-branch AAM rate of step 5, seeds ``SEEDS``.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time
from copy import copy
from typing import Dict, List, Optional, Tuple

_DIR = 'configs/mechanism/'
_TAIL = '_resnet18-w16-s3-objpre_1xb16-12e_synthetic-fgvc.py'
SOFTMAX = _DIR + 'finetune' + _TAIL
AAM = _DIR + 'aam-step' + _TAIL
# (row name, config, loss): the ablation, in table order
ROWS: List[Tuple[str, str, str]] = [
    ('single softmax', SOFTMAX, 'softmax'),
    ('two-branch softmax, whole image', _DIR + 'two-branch-softmax-wholeimage'
     + _TAIL, 'softmax'),
    ('two-branch softmax, jittered box (IoU 0.5)',
     _DIR + 'two-branch-softmax-jitterbox-iou0.5' + _TAIL, 'softmax'),
    ('two-branch softmax, localizer', _DIR + 'two-branch-softmax' + _TAIL,
     'softmax'),
    ('two-branch softmax, ground-truth box',
     _DIR + 'two-branch-softmax-gtbox' + _TAIL, 'softmax'),
    ('single AAM step', AAM, 'aam'),
    ('two-branch AAM step, localizer (thesis)',
     _DIR + 'two-branch-aam-step' + _TAIL, 'aam'),
]
LOSS_CONFIGS = dict(softmax=SOFTMAX, aam=AAM)
THESIS_ROW = 'two-branch AAM step, localizer (thesis)'
AOLM_ROW = ('two-branch AAM step, AOLM localizer',
            _DIR + 'two-branch-aam-step-aolm' + _TAIL, 'aam')
AOLM_CLAIMS = [('AOLM box > thesis box (two-branch AAM step)', AOLM_ROW[0],
                THESIS_ROW)]
BASE_LR = 0.005  # configs/_base_/schedules/synthetic_finetune_bs16_12e.py
LR_FACTORS = (0.25, 0.5, 1.0, 2.0)
LR_SEEDS = (0, 1)
SCALES = (16.0, 30.0, 64.0)
SCALE_SEEDS = (0, 1, 2)
SEEDS = (0, 1, 2, 3, 4)
# step 5: a grid one step lower than step 2's (L_raw + L_object doubles
# the gradient of one branch; x2 diverged in step 2)
TWO_BRANCH_LR_FACTORS = (0.125, 0.25, 0.5, 1.0)
LR_KEY = 'optim_wrapper.optimizer.lr'
SCALE_KEY = 'model.head.scale'
# (claim "a > b", a, b): what each pair isolates
CLAIMS = [
    ('doubled loss: whole image > single (softmax)',
     'two-branch softmax, whole image', 'single softmax'),
    ('crop of the ground-truth box > whole image',
     'two-branch softmax, ground-truth box',
     'two-branch softmax, whole image'),
    ('crop of a box at IoU 0.5 > whole image',
     'two-branch softmax, jittered box (IoU 0.5)',
     'two-branch softmax, whole image'),
    ('crop of the localizer\'s box > whole image',
     'two-branch softmax, localizer', 'two-branch softmax, whole image'),
    ('two-branch (localizer) > single (softmax)',
     'two-branch softmax, localizer', 'single softmax'),
    ('ground-truth box > localizer (room left to the localizer)',
     'two-branch softmax, ground-truth box',
     'two-branch softmax, localizer'),
    ('AAM step > softmax (single branch)', 'single AAM step',
     'single softmax'),
    ('AAM step > softmax (two-branch, localizer)',
     'two-branch AAM step, localizer (thesis)',
     'two-branch softmax, localizer'),
    ('thesis model > single softmax',
     'two-branch AAM step, localizer (thesis)', 'single softmax'),
    ('two-branch > single (AAM step)',
     'two-branch AAM step, localizer (thesis)', 'single AAM step'),
]


def lr_label(factor: float) -> str:
    return f'lr x{factor:g}'


def best_by_validation(records: List[dict], labels: List[str]) -> Dict:
    """The pre-registered rule: the label with the highest mean validation
    top-1 over its seeds (the first such label on a tie); every label's
    mean, for the report."""
    means = {}
    for label in labels:
        vals = [r['val_top1'] for r in records if r['name'] == label and
                r.get('val_top1') is not None]
        if vals:
            means[label] = statistics.mean(vals)
    if not means:
        raise ValueError('mechanism: no run has a validation top-1')
    best = max(means, key=lambda k: (means[k], -labels.index(k)))
    return dict(choice=best, val_top1=means)


def _stage(args: argparse.Namespace, rows: List[tuple],
           seeds) -> Tuple[List[dict], List[dict]]:
    """Plan and run ``rows`` = (config, name, options) for ``seeds``; the
    runs and their per-(row, seed) records."""
    from . import plans
    from .cli import row_results
    from .runs import run_all
    a = copy(args)
    a.rows, a.seeds, a.configs = rows, list(seeds), []
    runs = plans.plan(a)
    results = run_all(runs, args.jobs, args.threads, args.dry_run,
                      args.report_only)
    return runs, row_results(runs, results)


def _select_rates(args: argparse.Namespace, records: List[dict],
                  prefix: str, factors: Tuple[float, ...]
                  ) -> Tuple[Dict[str, float], Dict[str, dict]]:
    """Each loss's rate by :func:`best_by_validation` over the rows
    ``f'{prefix}{loss} lr x{factor}'`` (the base rate in a dry run, where
    nothing is trained): (lr per loss, the selections for the report)."""
    lrs, selections = {}, {}
    for loss in LOSS_CONFIGS:
        if args.dry_run:
            lrs[loss] = BASE_LR
            continue
        labels = [f'{prefix}{loss} {lr_label(f)}' for f in factors]
        sel = best_by_validation(records, labels)
        factor = factors[labels.index(sel['choice'])]
        lrs[loss] = BASE_LR * factor
        selections[loss] = dict(sel, factor=factor, lr=lrs[loss])
    return lrs, selections


def precondition(args: argparse.Namespace, out_dir: str) -> Dict:
    """Localizer CorLoc of the pretrained backbone before fine-tuning, on
    the carved validation split and the test split, with the baselines."""
    import subprocess
    import sys

    from .plans import ROOT
    from .results import read_result
    from .runs import run_env
    cfg = next(c for n, c, _ in ROWS if n == 'two-branch softmax, localizer')
    found = {}
    for split in ('val', 'test'):
        path = osp.join(out_dir, f'precondition_{split}.json')
        if not osp.isfile(path) and not (args.report_only or args.dry_run):
            cmd = [sys.executable,
                   osp.join(ROOT, 'tools/analysis_tools/localizer_corloc.py'),
                   osp.join(ROOT, cfg), '--split', split, '--out', path,
                   '--cfg-options'] + [
                f'{s}_dataloader.dataset.data_root={args.data_root_used}'
                for s in ('train', 'val', 'test')] + [
                'model.backbone.init_cfg.checkpoint=' + args.pretrained]
            subprocess.run(cmd, cwd=ROOT, check=True,
                           env=run_env(args.threads or 2))
        if osp.isfile(path):
            found[split] = read_result(path)
    return found


def run(args: argparse.Namespace) -> Dict:
    """Steps 1-6; returns what the report needs."""
    from . import plans
    from .results import write_result
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root, _ = plans.prepare_data(args, [SOFTMAX], work_dir)
    args.data_root_used = data_root
    out: Dict = dict(protocol=dict(
        base_lr=BASE_LR, lr_factors=LR_FACTORS, lr_seeds=LR_SEEDS,
        scales=SCALES, scale_seeds=SCALE_SEEDS, seeds=SEEDS))
    out['precondition'] = precondition(args, work_dir)
    # 2. learning rate of each loss
    lr_rows = [(LOSS_CONFIGS[loss], f'{loss} {lr_label(f)}',
                {LR_KEY: BASE_LR * f})
               for loss in LOSS_CONFIGS for f in LR_FACTORS]
    _, lr_records = _stage(args, lr_rows, LR_SEEDS)
    lrs, out['lr_selection'] = _select_rates(args, lr_records, '',
                                             LR_FACTORS)
    # 3. scale of the AAM rows at the AAM lr
    s_rows = [(AAM, f's={s:g}', {LR_KEY: lrs['aam'], SCALE_KEY: s})
              for s in SCALES]
    _, s_records = _stage(args, s_rows, SCALE_SEEDS)
    scale = 30.0
    if not args.dry_run:
        sel = best_by_validation(s_records, [n for _, n, _ in s_rows])
        scale = SCALES[[n for _, n, _ in s_rows].index(sel['choice'])]
        out['scale_selection'] = dict(sel, scale=scale)
    # 4. the ablation
    rows = [(cfg, name, {LR_KEY: lrs[loss], **(
        {SCALE_KEY: scale} if loss == 'aam' else {})})
        for name, cfg, loss in ROWS]
    runs, records = _stage(args, rows, SEEDS)
    out['records'] = records
    out['runs'] = runs
    # 5. supplement: the two-branch model's own lr per loss, then step 4
    # again with it
    localizer = dict(softmax='two-branch softmax, localizer', aam=THESIS_ROW)
    tb_rows = [(next(c for n, c, _ in ROWS if n == localizer[loss]),
                f'two-branch {loss} {lr_label(f)}',
                {LR_KEY: BASE_LR * f, **(
                    {SCALE_KEY: scale} if loss == 'aam' else {})})
               for loss in LOSS_CONFIGS for f in TWO_BRANCH_LR_FACTORS]
    _, tb_records = _stage(args, tb_rows, LR_SEEDS)
    tb_lrs, out['two_branch_lr_selection'] = _select_rates(
        args, tb_records, 'two-branch ', TWO_BRANCH_LR_FACTORS)
    rows = [(cfg, name, {LR_KEY: (tb_lrs if 'two-branch' in name else
                                  lrs)[loss], **(
        {SCALE_KEY: scale} if loss == 'aam' else {})})
        for name, cfg, loss in ROWS]
    out['supplement_runs'], out['supplement_records'] = _stage(
        args, rows, SEEDS)
    # 6. AOLM against the thesis's box rule, at the two-branch AAM rate
    aolm = [(cfg, name, {LR_KEY: tb_lrs['aam'], SCALE_KEY: scale})
            for name, cfg, _ in [next(r for r in ROWS if r[0] == THESIS_ROW),
                                 AOLM_ROW]]
    _, out['aolm_records'] = _stage(args, aolm, SEEDS)
    # every run of the study once (later steps reuse earlier runs)
    out['all_records'] = list({r['run_dir']: r for r in (
        lr_records + s_records + records + tb_records +
        out['supplement_records'] + out['aolm_records'])}.values())
    if args.dry_run:
        return out
    write_result(osp.join(work_dir, 'mechanism_selection.json'),
                 {k: out[k] for k in ('protocol', 'lr_selection',
                                      'scale_selection',
                                      'two_branch_lr_selection')})
    return out


def _fmt(v: Optional[float], std: Optional[float] = None) -> str:
    if v is None:
        return '-'
    return f'{v:.2f}' + (f' ± {std:.2f}' if std is not None else '')


def write_report(out: Dict, prefix: str, meta: dict) -> str:
    """``<prefix>.md``: precondition, selections, ablation, claims."""
    lines = ['# Mechanism study', '']
    pre = out.get('precondition') or {}
    if pre:
        lines += ['## 1. Does the localizer find the object? (before '
                  'fine-tuning)', '',
                  '| box source | split | CorLoc % | mIoU % |',
                  '|:---|:---:|---:|---:|']
        for split, res in pre.items():
            for name, r in res['rows'].items():
                label = ('pretrained backbone + localizer'
                         if name == 'model' else name)
                lines.append(f'| {label} | {split} | {r["corloc"]:.2f} | '
                             f'{r["miou"]:.2f} |')
        lines.append('')
    lines += ['## 2. Learning rate of each loss (validation top-1, mean '
              'of the seeds)', '']
    for loss, sel in (out.get('lr_selection') or {}).items():
        vals = ', '.join(f'{k.split(" ", 1)[1]}: {v:.2f}'
                         for k, v in sel['val_top1'].items())
        lines.append(f'- {loss}: {vals} -> **x{sel["factor"]:g}** '
                     f'(lr {sel["lr"]:g})')
    sel = out.get('scale_selection')
    if sel:
        vals = ', '.join(f'{k}: {v:.2f}' for k, v in sel['val_top1'].items())
        lines += ['', '## 3. Scale of the AAM rows at the selected lr', '',
                  f'- validation top-1: {vals} -> **s = {sel["scale"]:g}**']
    rows, found = _ablation(lines, out['records'], prefix + '_claims.md',
                            '4. Ablation at the selected lr of each loss')
    sup = out.get('two_branch_lr_selection')
    sup_rows = sup_found = None
    if sup:
        lines += ['## 5. Supplement: the two-branch model\'s own learning '
                  'rate', '']
        for loss, sel in sup.items():
            vals = ', '.join(f'{k.rsplit(" ", 2)[1]} {k.rsplit(" ", 1)[1]}:'
                             f' {v:.2f}' for k, v in sel['val_top1'].items())
            lines.append(f'- two-branch {loss}: {vals} -> '
                         f'**x{sel["factor"]:g}** (lr {sel["lr"]:g})')
        lines.append('')
        sup_rows, sup_found = _ablation(
            lines, out['supplement_records'],
            prefix + '_supplement_claims.md',
            '5b. Ablation, two-branch rows at the two-branch lr')
    if out.get('aolm_records'):
        _ablation(lines, out['aolm_records'], prefix + '_aolm_claims.md',
                  '6. Exploratory: AOLM box rule against the thesis\'s',
                  names=[THESIS_ROW, AOLM_ROW[0]], claims=AOLM_CLAIMS,
                  against=THESIS_ROW)
    lines += ['', f'{meta.get("epochs")} epochs, input '
              f'{meta.get("input")} px, batch {meta.get("batch")}; '
              f'{meta.get("runs", 0)} runs, {meta.get("cpu_h", 0):.2f} '
              'CPU-hours of training and evaluation in all; this '
              f'invocation took {meta.get("wall_s", 0) / 60:.1f} min (runs '
              'finished before are read, not trained again).']
    md = '\n'.join(lines) + '\n'
    with open(prefix + '.md', 'w') as f:
        f.write(md)
    with open(prefix + '.json', 'w') as f:
        json.dump(dict(rows=rows, claims=found,
                       lr_selection=out.get('lr_selection'),
                       scale_selection=out.get('scale_selection'),
                       two_branch_lr_selection=sup,
                       supplement_rows=sup_rows, supplement_claims=sup_found,
                       precondition=pre), f, indent=1, default=str)
    return md


def _ablation(lines: List[str], records: List[dict], claims_path: str,
              title: str, names: Optional[List[str]] = None,
              claims: Optional[List[tuple]] = None,
              against: str = 'single softmax'
              ) -> Tuple[List[dict], List[dict]]:
    """Append the ablation table and its claims to ``lines``."""
    from . import report
    rows = report.aggregate(records, names or [n for n, _, _ in ROWS])
    lines += ['', f'## {title} (test split, once; mean ± std over seeds)',
              '', '| row | seeds | top-1 % | val top-1 % | CorLoc % (test) '
              f'| paired p vs {against} |',
              '|:---|:---:|---:|---:|---:|---:|']
    for r in rows:
        p = '-' if r['p_value'] is None else f'{r["p_value"]:.3f}'
        lines.append(
            f'| {r["name"]} | {len(r["seeds"])} | '
            f'{_fmt(r["top1"], r["top1_std"])} | '
            f'{_fmt(r.get("val_top1"), r.get("val_top1_std"))} | '
            f'{_fmt(r.get("corloc"), r.get("corloc_std"))} | {p} |')
    found = report.claims(rows, claims=claims or CLAIMS)
    lines += ['', 'Claims (test top-1, paired t over seeds):', '',
              report.write_claims(found, claims_path)]
    return rows, found


def main(args: argparse.Namespace) -> int:
    """``compare_methods.py --plan mechanism``."""
    from .budget import input_shape_of
    from .pretrain import OBJECTS_CONFIG, OBJECTS_STABLE_PATH, \
        cached_checkpoint, ensure_pretrained
    from ..synthetic_fgvc import OBJECTS_PRETRAIN_PARAMS
    from mmengine.config import Config
    t0 = time.time()
    if args.dry_run:
        args.pretrained, _ = cached_checkpoint(
            args.pretrain_root, OBJECTS_CONFIG, OBJECTS_PRETRAIN_PARAMS)
    else:
        args.pretrained = ensure_pretrained(
            args.pretrain_root, OBJECTS_CONFIG, OBJECTS_PRETRAIN_PARAMS,
            stable=OBJECTS_STABLE_PATH, threads=args.threads)
    out = run(args)
    if args.dry_run:
        return 0
    first = out['runs'][0]
    cfg = Config.fromfile(first['cfg_path'])
    meta = dict(epochs=first['epochs'], input=input_shape_of(cfg)[-1],
                batch=first['images_per_iter'], wall_s=time.time() - t0,
                runs=len(out['all_records']),
                cpu_h=sum(r.get('cpu_s', 0)
                          for r in out['all_records']) / 3600)
    prefix = args.out or osp.join(osp.abspath(args.work_dir), 'mechanism')
    print(write_report(out, prefix, meta))
    print(f'wrote {prefix}.md, {prefix}.json, {prefix}_claims.md')
    return 0

"""Command line of ``tools/analysis_tools/compare_methods.py``."""
import argparse
import json
import os
import os.path as osp
import time
from collections import OrderedDict
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction

from . import plans, report, slurm
from .budget import input_shape_of
from .runs import fmt_time, run_all


def parse_args(argv: Optional[Sequence[str]] = None,
               description: str = '') -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='*',
                   help="configs to compare (default: the regime's nine "
                   'synthetic siblings; a sweep plan: the config to sweep)')
    p.add_argument('--regime', choices=list(plans.REGIMES),
                   default='finetune',
                   help='finetune (default): synthetic-pretrained backbone, '
                   'thesis fine-tuning recipe, carved validation split, '
                   'test split once; scratch: from scratch, the original '
                   'protocol (Table 8 analog)')
    p.add_argument('--plan', choices=plans.PLANS, default='default',
                   help='default: every method; overflow / scale / '
                   'test_branch: sweeps of the thesis model; mechanism: '
                   'the mechanism study (configs/mechanism/README.md)')
    p.add_argument('--names', nargs='+',
                   help='method names for the table, one per config')
    p.add_argument('--work-dir',
                   help='default: work_dirs/compare_methods (scratch) or '
                   'work_dirs/compare_finetune')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--epochs', type=int,
                   help='epochs of every run; epoch milestones are rescaled '
                   '(default comparison: the regime\'s; otherwise each '
                   "config's own)")
    p.add_argument('--input-size', type=int,
                   help='network input side: the last crop of every '
                   'pipeline, the resize before it scaled alike '
                   "(default comparison: the regime's, 96)")
    p.add_argument('--batch-size', type=int,
                   help='batch size per process (default: the configs\')')
    p.add_argument('--num-workers', type=int,
                   help='dataloader workers (default: 0 on CPU, the '
                   "configs' on GPU)")
    p.add_argument('--data-root',
                   help='use this data root for every split (real data); '
                   'without it synthetic configs get a generated copy')
    p.add_argument('--synthetic-params', nargs='+', action=DictAction,
                   default={},
                   help='generator parameters (KEY=VALUE) overriding '
                   'its DEFAULT_PARAMS for the generated copy')
    p.add_argument('--pretrain-root', default='work_dirs/pretrain_synthetic',
                   help='cache of the pretrained backbone (finetune regime)')
    p.add_argument('--val-interval', type=int,
                   help='validate every N epochs (default: only after the '
                   'last one)')
    p.add_argument('--margin-overflow',
                   choices=['literal', 'monotonic', 'easy'],
                   help='set `overflow` of every AngularMarginHead '
                   "(default: the configs')")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='extra overrides applied to every config')
    p.add_argument('--jobs', type=int, default=1,
                   help='runs in parallel (CPU: use one per core)')
    p.add_argument('--threads', type=int,
                   help='torch threads per run (default: cores / jobs)')
    p.add_argument('--gpus', type=int, default=0,
                   help='GPUs per run (> 1: torchrun data parallel)')
    p.add_argument('--retrain', action='store_true',
                   help='re-run finished runs instead of reading them')
    p.add_argument('--only', nargs='+', metavar='NAME',
                   help='train only the rows with these names (the others '
                   'are reported if finished): to spread a plan over '
                   'several processes without two training one run')
    p.add_argument('--report-only', action='store_true',
                   help='only collect finished runs into the table / plot')
    p.add_argument('--dry-run', action='store_true',
                   help='write effective configs and print the commands')
    p.add_argument('--out', help='table / plot prefix (default: '
                   '<work-dir>/comparison[_<plan>])')
    p.add_argument('--title', default=None, help='plot title')
    slurm.add_arguments(p)
    args = p.parse_args(argv)
    slurm.check_arguments(p, args)
    if args.plan == 'mechanism':
        if args.configs or args.names:
            p.error('--plan mechanism runs its own configs '
                    '(configs/mechanism/)')
        args.regime = 'mechanism'
        args.work_dir = args.work_dir or 'work_dirs/compare_mechanism'
    n_cfg = len(args.configs or plans.REGIMES[args.regime]['configs'])
    if args.names and len(args.names) != n_cfg:
        p.error('--names needs one name per config')
    if args.plan != 'default' and len(args.configs) > 1:
        p.error('a sweep plan takes at most one config')
    if args.jobs < 1 or (args.threads is not None and args.threads < 1):
        p.error('--jobs and --threads must be >= 1')
    if args.work_dir is None:
        args.work_dir = ('work_dirs/compare_methods' if args.regime ==
                         'scratch' else 'work_dirs/compare_finetune')
    return args


def needs_pretrained(args: argparse.Namespace) -> bool:
    from .budget import pretrained_of
    from .pretrain import STABLE_PATH
    configs = (args.configs or plans.REGIMES[args.regime]['configs'])
    return args.regime == 'finetune' and any(
        pretrained_of(Config.fromfile(osp.join(plans.ROOT, c))) ==
        STABLE_PATH for c in configs)


def row_results(runs: List[dict], results: List[dict]) -> List[dict]:
    """One record per (row, seed): the run's result, with the metrics of
    the row's test branch; ``top1`` etc. from the test split and
    ``val_top1`` from the carved split when the run was evaluated."""
    by_dir = {r['run_dir']: r for r in results}
    out = []
    for run in runs:
        res = by_dir.get(run['run_dir'])
        if res is None:
            continue
        rec = dict(res, name=run['name'], config=run['config'],
                   seed=run['seed'])
        ev = res.get('evaluation')
        if ev is not None:
            part = ev['branches'][run['branch']] if run.get(
                'branch') else ev['own']
            for key in ('top1', 'top5', 'class_mean', 'corloc'):
                rec[key] = part['test'].get(key)
            rec['val_top1'] = part['val'].get('top1')
        out.append(rec)
    return out


def current_value(args: argparse.Namespace, runs: List[dict]):
    """The swept config's own value (the row label) of a sweep plan."""
    cfg = Config.fromfile(osp.join(plans.ROOT, runs[0]['config']))
    value = {
        'overflow': lambda: cfg.model.head.get('overflow'),
        'scale': lambda: cfg.model.head.get('scale'),
        'test_branch': lambda: cfg.model.get('test_branch'),
    }[args.plan]()
    for label, opts in plans.SWEEPS[args.plan]:
        if list(opts.values())[0] == value:
            return label
    return None


def main(argv: Optional[Sequence[str]] = None, description: str = '') -> int:
    args = parse_args(argv, description)
    if args.plan == 'mechanism':
        from . import mechanism
        return mechanism.main(args)
    t0 = time.time()
    args.pretrained = None
    if needs_pretrained(args):
        from .pretrain import cached_checkpoint, ensure_pretrained
        if args.dry_run:
            args.pretrained, done = cached_checkpoint(args.pretrain_root)
            print(f'pretrained backbone: {args.pretrained} '
                  f'({"cached" if done else "would be pretrained first"})')
        else:
            args.pretrained = ensure_pretrained(args.pretrain_root)
    runs = plans.plan(args)
    if args.dry_run:
        for run in OrderedDict((r['run_dir'], r) for r in runs).values():
            print(f'# {run["label"]}: {run["cfg_path"]}')
        print(f'# effective config of {runs[0]["label"]}:')
        with open(runs[0]['cfg_path']) as f:
            print(f.read())
    todo = [r for r in runs if not args.only or r['name'] in args.only]
    if args.only:
        unknown = set(args.only) - {r['name'] for r in runs}
        if unknown:
            raise ValueError(f'compare_methods: --only {sorted(unknown)}: '
                             'no such row')
    status = 'done'
    if args.slurm:
        results, status = slurm.run_on_slurm(todo, args)
        if status == 'waiting' and not args.report_only:
            return 0  # submitted: --report-only once the jobs have ended
    else:
        results = run_all(todo, args.jobs, args.threads, args.dry_run,
                          args.report_only)
    if args.only:  # report every row that is finished
        mine = {r['run_dir'] for r in todo}
        results += run_all([r for r in runs if r['run_dir'] not in mine],
                           args.jobs, report_only=True)
    if args.dry_run:
        return 0
    order = list(OrderedDict.fromkeys(r['name'] for r in runs))
    work_dir = osp.abspath(args.work_dir)
    suffix = '' if args.plan == 'default' else f'_{args.plan}'
    prefix = args.out or osp.join(work_dir, 'comparison' + suffix)
    os.makedirs(osp.dirname(osp.abspath(prefix)), exist_ok=True)
    if not results:
        print('no finished run to report')
        return 1
    records = row_results(runs, results)
    rows = report.aggregate(records, order)
    first = runs[0]
    cfg = Config.fromfile(first['cfg_path'])
    meta = dict(
        epochs=first['epochs'], input=input_shape_of(cfg)[-1],
        batch=first['images_per_iter'],
        cuda=any('peak_cuda_mib' in r for r in results),
        wall_s=time.time() - t0,
        cpu_h=sum(r.get('cpu_s', 0) for r in results) / 3600)
    md = report.write_table(rows, prefix, meta)
    report.write_runs_csv(records, prefix + '_runs.csv')
    report.plot(rows, prefix + '.png', args.title or (
        f'{args.regime}: {len(rows)} rows, {meta["epochs"]} epochs, seeds '
        f'{" ".join(map(str, args.seeds))}'))
    print('\n' + md)
    found = report.claims(rows)
    if found:
        print(report.write_claims(found, prefix + '_claims.md'))
    if args.plan != 'default' and any(
            r.get('val_top1') is not None for r in rows):
        sel = report.select(rows, current_value(args, runs))
        with open(prefix + '_selection.json', 'w') as f:
            json.dump(sel, f, indent=1)
        print(f'selection (validation top-1, Welch p < {report.ALPHA}): '
              f'{json.dumps(sel)}')
    print(f'wrote {prefix}.md, {prefix}.csv, {prefix}_runs.csv, '
          f'{prefix}.png (total {fmt_time(time.time() - t0)})')
    return 0 if status == 'done' and all(
        r.get('returncode', 0) == 0 for r in results) else 1

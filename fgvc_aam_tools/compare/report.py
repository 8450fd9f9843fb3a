"""The report: mean and sample std over seeds, a paired t-test (runs
with the same seeds pair up: same seed across methods, same checkpoint
across test branches) or else Welch's t-test against the first row, the
pre-registered selection rule, the thesis's claims, the table (markdown +
CSV) and the plot."""
import csv
import math
import statistics
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from .runs import fmt_time

COLUMNS = OrderedDict([
    ('val_top1', 'val top-1 (%)'),
    ('top1', 'top-1 (%)'),
    ('top5', 'top-5 (%)'),
    ('class_mean', 'per-class acc. (%)'),
    ('corloc', 'CorLoc (%)'),
    ('train_img_per_s', 'train img/s'),
    ('peak_mem_mib', 'peak mem (MiB)'),
    ('params', 'params (M)'),
    ('flops', 'FLOPs (G)'),
])
SCALE = dict(params=1e-6, flops=1e-9)
ALPHA = 0.05  # a difference needs p < ALPHA (two-sided)


def welch_p(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of Welch's t-test; None if undefined."""
    from scipy import stats
    if len(a) < 2 or len(b) < 2:
        return None
    if statistics.pstdev(a) + statistics.pstdev(b) == 0:
        return None  # no seed noise: the test is undefined
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def paired_p(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of the paired t-test of ``a[i]`` against
    ``b[i]``; None if undefined (under 2 pairs, or differences without
    spread)."""
    from scipy import stats
    if len(a) != len(b):
        raise ValueError(f'paired_p: {len(a)} vs {len(b)} values')
    if len(a) < 2 or statistics.pstdev(x - y for x, y in zip(a, b)) == 0:
        return None
    return float(stats.ttest_rel(a, b).pvalue)


def compare(a: dict, b: dict, key: str) -> Dict:
    """Test row ``a`` against row ``b`` on ``key`` over the seeds.

    Paired t-test when both rows have values for the same seeds (at least
    2): the same seed across methods, and the same checkpoint across test
    branches (the test_branch rows evaluate the default runs). Otherwise
    (seeds differ, e.g. a failed run, or no seeds recorded) Welch's
    unpaired t-test on all values. Returns ``dict(diff, p, test, n)``:
    the difference of the means, the p-value (None if undefined), ``'paired
    t'`` or ``'Welch'``, and the number of pairs / values per row.
    """
    va, vb = a[key + '_values'], b[key + '_values']
    diff = (statistics.mean(va) - statistics.mean(vb)
            if va and vb else None)
    sa, sb = a.get(key + '_by_seed'), b.get(key + '_by_seed')
    if sa and sb and set(sa) == set(sb) and len(sa) >= 2:
        seeds = sorted(sa)
        return dict(diff=diff, test='paired t', n=str(len(seeds)),
                    p=paired_p([sa[k] for k in seeds],
                               [sb[k] for k in seeds]))
    return dict(diff=diff, p=welch_p(va, vb), test='Welch',
                n=f'{len(va)}/{len(vb)}')


def aggregate(results: List[dict], order: List[str]) -> List[dict]:
    """One row per method: mean and sample std over seeds."""
    rows = []
    for name in order:
        rs = [r for r in results if r['name'] == name and
              r.get('returncode', 0) == 0]
        row = dict(name=name, config=next(
            (r['config'] for r in results if r['name'] == name), ''),
            seeds=sorted(r['seed'] for r in rs))
        for r in rs:
            r['peak_mem_mib'] = r.get('peak_cuda_mib', r.get('peak_rss_mib'))
        for key in COLUMNS:
            kept = [r for r in rs if r.get(key) is not None and not (
                isinstance(r[key], float) and math.isnan(r[key]))]
            vals = [r[key] * SCALE.get(key, 1) for r in kept]
            by_seed = {r['seed']: r[key] * SCALE.get(key, 1) for r in kept}
            # a seed twice (should not happen) cannot pair: no pairing
            row[key + '_by_seed'] = by_seed if len(by_seed) == len(
                kept) else None
            row[key] = statistics.mean(vals) if vals else None
            row[key + '_std'] = statistics.stdev(vals) if len(
                vals) > 1 else None
            row[key + '_values'] = vals
        row['failed'] = sum(1 for r in results if r['name'] == name and
                            r.get('returncode', 0) != 0)
        rows.append(row)
    for row in rows:
        row['delta_top1'] = (row['top1'] - rows[0]['top1']
                             if row['top1'] is not None and
                             rows[0]['top1'] is not None else None)
        row['p_value'] = row['p_test'] = None
        if row is not rows[0]:
            test = compare(row, rows[0], 'top1')
            row['p_value'], row['p_test'] = test['p'], test['test']
    return rows


def select(rows: List[dict], current: Optional[str] = None,
           key: str = 'val_top1') -> Dict:
    """The pre-registered selection rule of a sweep, on validation only.

    The best row is the one with the highest mean ``key`` (validation
    top-1). A row is *tied* with it unless the t-test of :func:`compare`
    (paired where the rows' seeds pair up, else Welch) gives p < ``ALPHA``.
    The config's ``current`` value is kept if it is the best or tied with
    it; otherwise the best replaces it.

    Returns ``dict(choice, best, tied, keep, p)`` with ``p`` the p-value
    of ``current`` against the best.
    """
    scored = [r for r in rows if r.get(key) is not None]
    if not scored:
        raise ValueError(f'select: no row has {key}')
    best = max(scored, key=lambda r: r[key])

    def tied_with_best(r: dict) -> bool:  # p is None: too few seeds to test
        p = compare(r, best, key)['p']
        return p is None or p >= ALPHA

    tied = [r['name'] for r in scored if r is best or tied_with_best(r)]
    cur = next((r for r in scored if r['name'] == current), None)
    p = None if cur is None or cur is best else compare(cur, best, key)['p']
    keep = cur is not None and cur['name'] in tied
    return dict(choice=cur['name'] if keep else best['name'],
                best=best['name'], tied=tied, keep=keep, p=p)


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return '-'
    digits = 0 if key in ('train_img_per_s', 'peak_mem_mib') else 2
    if key == 'flops':
        digits = 3
    s = f'{v:.{digits}f}'
    std = row.get(key + '_std')
    if std is not None and key not in ('params', 'flops'):
        s += f' ± {std:.{digits}f}'
    return s


def columns_of(rows: List[dict]) -> List[str]:
    """The columns to show: ``val_top1`` only if some row has it."""
    return [k for k in COLUMNS
            if k != 'val_top1' or any(r.get(k) is not None for r in rows)]


def write_table(rows: List[dict], prefix: str, meta: dict) -> str:
    cols = columns_of(rows)
    mem = 'peak CUDA memory' if meta.get('cuda') else 'peak RSS'
    head = (['method'] + [COLUMNS[k] for k in cols] +
            [f'Δ top-1 vs {rows[0]["name"]}', 'p (test)', 'seeds'])
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join([':---'] + [':---:'] * (len(head) - 1)) + '|']
    for row in rows:
        cells = [row['name']] + [_cell(row, k) for k in cols]
        cells.append('-' if row['delta_top1'] is None or row is rows[0]
                     else f'{row["delta_top1"]:+.2f}')
        cells.append('-' if row['p_value'] is None
                     else f'{row["p_value"]:.3f} ({row["p_test"]})')
        seeds = ' '.join(map(str, row['seeds'])) or '-'
        if row['failed']:
            seeds += f' ({row["failed"]} failed)'
        cells.append(seeds)
        lines.append('| ' + ' | '.join(cells) + ' |')
    split = (' "val top-1" is on the split carved from the training images '
             '(selection only); the other accuracies are on the test split, '
             'evaluated once after the last epoch.'
             if 'val_top1' in cols else '')
    notes = [
        '',
        f'Mean ± sample std over seeds; {meta["epochs"]} epochs, input '
        f'{meta["input"]} px, batch {meta["batch"]}; "{COLUMNS["peak_mem_mib"]}"'
        f' is the {mem} of the training process; FLOPs of one '
        f'{meta["input"]} px image (full test-time forward). Wall time '
        f'{fmt_time(meta["wall_s"])} for the runs trained in this '
        f'invocation, {meta["cpu_h"]:.2f} CPU-hours over all runs. p: '
        'two-sided t-test of top-1 against the first row, paired by seed '
        'where both rows have the same seeds (paired t), else Welch.'
        + split,
    ]
    md = '\n'.join(lines + notes) + '\n'
    with open(prefix + '.md', 'w') as f:
        f.write(md)
    with open(prefix + '.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['method', 'config'] + [
            x for k in cols for x in (k, k + '_std')] +
            ['delta_top1', 'p_value', 'p_test', 'seeds'])
        for row in rows:
            w.writerow([row['name'], row['config']] + [
                row.get(x) for k in cols for x in (k, k + '_std')] +
                [row['delta_top1'], row['p_value'], row['p_test'],
                 ' '.join(map(str, row['seeds']))])
    return md


def write_runs_csv(results: List[dict], path: str) -> None:
    keys = ['name', 'config', 'seed', 'returncode', 'val_top1', 'top1',
            'top5', 'class_mean', 'corloc', 'train_img_per_s',
            'peak_rss_mib', 'peak_cuda_mib', 'params', 'flops', 'wall_s',
            'cpu_s', 'threads', 'final_loss', 'eval_epoch']
    if not any(r.get('val_top1') is not None for r in results):
        keys.remove('val_top1')
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in sorted(results, key=lambda r: (r['name'], r['seed'])):
            w.writerow([r.get(k) for k in keys])


def plot(rows: List[dict], path: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(13, 4.8), gridspec_kw=dict(width_ratios=[1.7, 1]))
    x = np.arange(len(rows))
    bars = [('top1', 'top-1 (test)', 'C0'),
            ('class_mean', 'per-class mean (test)', 'C1')]
    if any(r.get('val_top1') is not None for r in rows):
        bars = [('val_top1', 'top-1 (carved val)', 'C2')] + bars
    width = 0.8 / len(bars)
    for j, (key, label, color) in enumerate(bars):
        off = (j - (len(bars) - 1) / 2) * width
        means = [r[key] if r[key] is not None else 0 for r in rows]
        stds = [r[key + '_std'] or 0 for r in rows]
        ax.bar(x + off, means, width, yerr=stds, capsize=3, label=label,
               color=color, alpha=0.8)
        for i, r in enumerate(rows):
            ax.scatter([i + off] * len(r[key + '_values']),
                       r[key + '_values'], s=9, color='k', zorder=3)
    ax.set_xticks(x)
    ax.set_xticklabels([r['name'] for r in rows], rotation=30, ha='right',
                       fontsize=8)
    ax.set_ylabel('accuracy (%)')
    ax.legend(fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    ax.set_title('accuracy (mean ± std, dots: seeds)', fontsize=9)
    for i, r in enumerate(rows):
        if r['top1'] is None or r['train_img_per_s'] is None:
            continue
        size = 20 + 60 * math.sqrt(r['params'] or 0)
        ax2.errorbar(r['train_img_per_s'], r['top1'],
                     yerr=r['top1_std'] or 0,
                     xerr=r['train_img_per_s_std'] or 0, fmt='none',
                     ecolor='gray', alpha=0.6)
        ax2.scatter(r['train_img_per_s'], r['top1'], s=size,
                    color=f'C{i % 10}', label=r['name'], alpha=0.85)
    ax2.set_xlabel('training images / s')
    ax2.set_ylabel('top-1 (%)')
    ax2.set_title('test accuracy vs training speed (size: parameters)',
                  fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=6, loc='best')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# The thesis's claims as (claim, row a, row b), on test top-1. "a > b" and
# "a >= b" are judged alike: see :func:`verdict`.
CLAIMS = [
    ('two-branch > single branch (AAM step)',
     'two-branch AAM step (thesis)', 'AAM step'),
    ('two-branch > single branch (softmax)', 'two-branch softmax',
     'softmax baseline'),
    ('AAM (step) > ArcFace', 'AAM step', 'ArcFace (m = 0.5)'),
    ('ArcFace > softmax', 'ArcFace (m = 0.5)', 'softmax baseline'),
    ('AAM (step) > softmax', 'AAM step', 'softmax baseline'),
    ('step >= linear', 'AAM step', 'AAM linear'),
    ('step >= exponential', 'AAM step', 'AAM exponential'),
    ('two-branch AAM > two-branch softmax', 'two-branch AAM step (thesis)',
     'two-branch softmax'),
    ('sum >= raw', 'test_branch=sum', 'test_branch=raw'),
    ('sum >= object', 'test_branch=sum', 'test_branch=object'),
]


def verdict(diff: float, p: Optional[float]) -> str:
    """What a difference of means ``a - b`` with two-sided p says about
    "a > b" or "a >= b": ``holds`` only when the difference is positive
    with p < ALPHA, ``contradicted`` when it is negative with p < ALPHA,
    otherwise ``tie (+x.xx)`` / ``tie (-x.xx)``: within seed noise, with
    the sign of the difference (a tie never supports a claim)."""
    if p is not None and p < ALPHA and diff > 0:
        return 'holds'
    if p is not None and p < ALPHA and diff < 0:
        return 'contradicted'
    return f'tie ({diff:+.2f})'


def claims(rows: List[dict], key: str = 'top1',
           claims: Optional[List[tuple]] = None) -> List[dict]:
    """Every claim of ``claims`` (default :data:`CLAIMS`) whose two rows
    are in ``rows``, tested by :func:`compare` (paired where the seeds pair
    up)."""
    by = {r['name']: r for r in rows}
    out = []
    for claim, a, b in CLAIMS if claims is None else claims:
        if a not in by or b not in by or by[a][key] is None or by[b][
                key] is None:
            continue
        test = compare(by[a], by[b], key)
        out.append(dict(claim=claim, a=a, b=b, diff=test['diff'],
                        p=test['p'], test=test['test'], n=test['n'],
                        verdict=verdict(test['diff'], test['p'])))
    return out


def write_claims(found: List[dict], path: str) -> str:
    lines = ['| claim | Δ top-1 (a - b) | test (n) | p | verdict |',
             '|:---|:---:|:---:|:---:|:---|']
    for c in found:
        p = '-' if c['p'] is None else f'{c["p"]:.3f}'
        lines.append(f'| {c["claim"]} | {c["diff"]:+.2f} | {c["test"]} '
                     f'({c["n"]}) | {p} | {c["verdict"]} |')
    lines += ['', comparisons_note(len(found))]
    md = '\n'.join(lines) + '\n'
    with open(path, 'w') as f:
        f.write(md)
    return md


def comparisons_note(num: int) -> str:
    """The one line on multiplicity under a claims table."""
    return (f'{num} comparison{"s" if num != 1 else ""}, each a two-sided '
            f't-test at p < {ALPHA}, with no multiplicity correction (no '
            f'Holm, no Bonferroni): about {ALPHA * num:.2f} false "holds" '
            'or "contradicted" are expected if no difference were real. '
            'Paired t: the same seeds (same checkpoint for test branches); '
            'Welch: unpaired; n = pairs, or values per row. "tie (±d)": '
            'p >= 0.05 (or untestable), d = mean difference a - b.')

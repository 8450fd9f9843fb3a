"""The report: mean and sample std over seeds, Welch's t-test against the
first row, the pre-registered selection rule, the table (markdown + CSV)
and the plot."""
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
ALPHA = 0.05  # Welch's t-test: a difference needs p < ALPHA


def welch_p(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of Welch's t-test; None if undefined."""
    from scipy import stats
    if len(a) < 2 or len(b) < 2:
        return None
    if statistics.pstdev(a) + statistics.pstdev(b) == 0:
        return None  # no seed noise: the test is undefined
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


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
            vals = [r[key] * SCALE.get(key, 1) for r in rs
                    if r.get(key) is not None and not (
                        isinstance(r[key], float) and math.isnan(r[key]))]
            row[key] = statistics.mean(vals) if vals else None
            row[key + '_std'] = statistics.stdev(vals) if len(
                vals) > 1 else None
            row[key + '_values'] = vals
        row['failed'] = sum(1 for r in results if r['name'] == name and
                            r.get('returncode', 0) != 0)
        rows.append(row)
    ref = rows[0]['top1_values'] if rows else []
    for row in rows:
        vals = row['top1_values']
        row['delta_top1'] = (row['top1'] - rows[0]['top1']
                             if row['top1'] is not None and
                             rows[0]['top1'] is not None else None)
        row['p_value'] = None
        if row is not rows[0]:
            row['p_value'] = welch_p(vals, ref)
    return rows


def select(rows: List[dict], current: Optional[str] = None,
           key: str = 'val_top1') -> Dict:
    """The pre-registered selection rule of a sweep, on validation only.

    The best row is the one with the highest mean ``key`` (validation
    top-1). A row is *tied* with it unless Welch's t-test over the seeds
    gives p < ``ALPHA``. The config's ``current`` value is kept if it is
    the best or tied with it; otherwise the best replaces it.

    Returns ``dict(choice, best, tied, keep, p)`` with ``p`` the p-value
    of ``current`` against the best.
    """
    scored = [r for r in rows if r.get(key) is not None]
    if not scored:
        raise ValueError(f'select: no row has {key}')
    best = max(scored, key=lambda r: r[key])

    def tied_with_best(r: dict) -> bool:  # p is None: too few seeds to test
        p = welch_p(r[key + '_values'], best[key + '_values'])
        return p is None or p >= ALPHA

    tied = [r['name'] for r in scored if r is best or tied_with_best(r)]
    cur = next((r for r in scored if r['name'] == current), None)
    p = None if cur is None or cur is best else welch_p(
        cur[key + '_values'], best[key + '_values'])
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
            [f'Δ top-1 vs {rows[0]["name"]}', 'p (Welch)', 'seeds'])
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join([':---'] + [':---:'] * (len(head) - 1)) + '|']
    for row in rows:
        cells = [row['name']] + [_cell(row, k) for k in cols]
        cells.append('-' if row['delta_top1'] is None or row is rows[0]
                     else f'{row["delta_top1"]:+.2f}')
        cells.append('-' if row['p_value'] is None
                     else f'{row["p_value"]:.3f}')
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
        f'invocation, {meta["cpu_h"]:.2f} CPU-hours over all runs.' + split,
    ]
    md = '\n'.join(lines + notes) + '\n'
    with open(prefix + '.md', 'w') as f:
        f.write(md)
    with open(prefix + '.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['method', 'config'] + [
            x for k in cols for x in (k, k + '_std')] +
            ['delta_top1', 'p_value', 'seeds'])
        for row in rows:
            w.writerow([row['name'], row['config']] + [
                row.get(x) for k in cols for x in (k, k + '_std')] +
                [row['delta_top1'], row['p_value'],
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


# The thesis's claims as (claim, row a, row b, strict): "a > b" (strict)
# or "a >= b", on test top-1.
CLAIMS = [
    ('two-branch > single branch (AAM step)',
     'two-branch AAM step (thesis)', 'AAM step', True),
    ('two-branch > single branch (softmax)', 'two-branch softmax',
     'softmax baseline', True),
    ('AAM (step) > ArcFace', 'AAM step', 'ArcFace (m = 0.5)', True),
    ('ArcFace > softmax', 'ArcFace (m = 0.5)', 'softmax baseline', True),
    ('AAM (step) > softmax', 'AAM step', 'softmax baseline', True),
    ('step >= linear', 'AAM step', 'AAM linear', False),
    ('step >= exponential', 'AAM step', 'AAM exponential', False),
    ('two-branch AAM > two-branch softmax', 'two-branch AAM step (thesis)',
     'two-branch softmax', True),
    ('sum >= raw', 'test_branch=sum', 'test_branch=raw', False),
    ('sum >= object', 'test_branch=sum', 'test_branch=object', False),
]


def verdict(diff: float, p: Optional[float], strict: bool) -> str:
    """What a difference of means with Welch p says about "a > b" (strict)
    or "a >= b"."""
    significant = p is not None and p < ALPHA
    if significant and diff > 0:
        return 'holds'
    if significant and diff < 0:
        return 'contradicted'
    return ('not shown (within seed noise)' if strict else
            'holds (tie within seed noise)')


def claims(rows: List[dict], key: str = 'top1') -> List[dict]:
    """Every claim of :data:`CLAIMS` whose two rows are in ``rows``."""
    by = {r['name']: r for r in rows}
    out = []
    for claim, a, b, strict in CLAIMS:
        if a not in by or b not in by or by[a][key] is None or by[b][
                key] is None:
            continue
        diff = by[a][key] - by[b][key]
        p = welch_p(by[a][key + '_values'], by[b][key + '_values'])
        out.append(dict(claim=claim, a=a, b=b, diff=diff, p=p,
                        verdict=verdict(diff, p, strict)))
    return out


def write_claims(found: List[dict], path: str) -> str:
    lines = ['| claim | Δ top-1 (a - b) | p (Welch) | verdict |',
             '|:---|:---:|:---:|:---|']
    for c in found:
        p = '-' if c['p'] is None else f'{c["p"]:.3f}'
        lines.append(f'| {c["claim"]} | {c["diff"]:+.2f} | {p} | '
                     f'{c["verdict"]} |')
    md = '\n'.join(lines) + '\n'
    with open(path, 'w') as f:
        f.write(md)
    return md

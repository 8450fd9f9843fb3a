"""Train and evaluate several configs on the same data with the same budget.

Every (config, seed) run is a subprocess of ``tools/train.py`` (the real
training path) on an effective config that this tool writes next to the
run: the original config plus the shared budget (epochs, with the
epoch-based milestones of the LR schedulers and of ``MarginScheduleHook``
rescaled proportionally, seed, input size, batch size, data root, number of
classes) and the shared evaluators. The table (markdown + CSV) and the plot
(PNG) report, as mean +- sample std over the seeds:

- top-1 / top-5 accuracy and the per-class mean accuracy (macro-averaged
  recall, MMPretrain's ``Accuracy`` and ``SingleLabelMetric``) of the last
  epoch on the test split (validation runs once, after the last epoch);
- CorLoc (``LocalizationMetric``, IoU >= 0.5) for two-branch models on data
  with boxes;
- training images/s: ``batch size x world size / median iteration time``
  (mmengine's ``time`` of the training log records after the first epoch);
- peak memory: on CUDA the peak ``torch.cuda.max_memory_allocated`` of the
  training log; on CPU the peak resident set size of the training process
  (``ru_maxrss`` of the child from ``os.wait4``; includes the ~0.5 GiB of the
  Python / PyTorch / MMPretrain runtime itself);
- parameters and FLOPs of the model (``mmengine.analysis``, one fused
  multiply-add = 1 FLOP, as MMPretrain's ``get_flops.py``) of the full
  ``mode='tensor'`` forward at the test input size (both passes and the
  head for ``TwoBranchClassifier``);
- the difference in top-1 to the first config and Welch's t-test p-value
  (seed noise).

Runs are resumable: a run with a ``result.json`` whose effective config is
unchanged is skipped (its results are read back); an interrupted run that
left checkpoints continues with ``--resume``. Progress: one line per
finished epoch and per run, with elapsed time and an ETA.

The default comparison (no config given) runs the nine methods of
``DEFAULT_CONFIGS`` on the project's default synthetic data (generated into
``<work-dir>/data``), for ``DEFAULT_EPOCHS`` epochs at a
``DEFAULT_INPUT_SIZE`` px input, seeds 0 1 2::

    python tools/analysis_tools/compare_methods.py --jobs 2

Choice of difficulty and budget: the data is the generator's default, which
was calibrated with the softmax baseline ONLY (no other method was looked
at) so that a 16-channel ResNet-18 from scratch lands in the middle of the
accuracy range (about 55% top-1 after 30 epochs at 128 px, chance 6.25%),
where methods can be better or worse than it by more than the seed noise;
the comparison's budget (20 epochs at 96 px) is what fits about 30 minutes
of 2 CPU cores for 9 methods x 3 seeds. The README's results section gives
the measured table and wall time.

Real data sets (GPU)::

    python tools/analysis_tools/compare_methods.py \
        configs/aam/aam-step_resnet50_2xb8-100e_cub.py \
        configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py \
        --data-root data/CUB_200_2011 --gpus 2 --seeds 0 \
        --work-dir work_dirs/compare_cub
"""
import argparse
import csv
import glob
import hashlib
import json
import logging
import math
import os
import os.path as osp
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from copy import deepcopy
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmengine.config import Config, DictAction  # noqa: E402

# --------------------------------------------------------------------------
# The default comparison
# --------------------------------------------------------------------------
DEFAULT_CONFIGS: List[str] = [
    'configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/aam/arcface-m0.5_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/aam/aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/aam/aam-linear_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/aam/aam-exp_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/two_branch/'
    'two-branch-softmax_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/two_branch/'
    'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/mc_loss/mc-loss_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    'configs/bcnn/bcnn_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
]
# Short method names for the table (config stem -> name).
DEFAULT_NAMES: Dict[str, str] = {
    'finetune': 'softmax baseline',
    'arcface-m0.5': 'ArcFace (m = 0.5)',
    'aam-step': 'AAM step',
    'aam-linear': 'AAM linear',
    'aam-exp': 'AAM exponential',
    'two-branch-softmax': 'two-branch softmax',
    'two-branch-aam-step': 'two-branch AAM step (thesis)',
    'mc-loss': 'MC-loss',
    'bcnn': 'B-CNN',
}
# The default comparison's data is the generator's DEFAULT_PARAMS (the
# project's default data, the quickstart's), see the docstring.
# The budget of the default comparison: 20 of the configs' 30 epochs (the
# epoch milestones rescaled) at a 96 px network input instead of 128, so
# that 9 methods x 3 seeds fit about 30 minutes of 2 CPU cores. The AAM
# siblings set their head's `overflow` themselves ('monotonic': eq. 51 read
# literally has a degenerate minimum from scratch, see
# configs/aam/aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py).
DEFAULT_EPOCHS = 20
DEFAULT_INPUT_SIZE = 96

CROP_KEYS = {
    'RandomResizedCrop': 'scale',
    'BoxAwareRandomResizedCrop': 'scale',
    'CenterCrop': 'crop_size',
    'RandomCrop': 'crop_size',
    'BoxAwareRandomCrop': 'crop_size',
}
RESIZE_TYPES = ('Resize', 'ResizeEdge', 'BoxAwareResizeEdge')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
METRIC_KEYS = OrderedDict([
    ('top1', 'accuracy/top1'),
    ('top5', 'accuracy/top5'),
    ('class_mean', 'single-label/recall'),
    ('corloc', 'localization/CorLoc'),
])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='*',
                   help='configs to compare (default: the 9 synthetic '
                   'siblings of DEFAULT_CONFIGS)')
    p.add_argument('--names', nargs='+',
                   help='method names for the table, one per config')
    p.add_argument('--work-dir', default='work_dirs/compare_methods')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--epochs', type=int,
                   help='epochs of every run; epoch milestones are rescaled '
                   f'(default comparison: {DEFAULT_EPOCHS}; otherwise each '
                   "config's own)")
    p.add_argument('--input-size', type=int,
                   help='network input side: the last crop of every '
                   'pipeline, the resize before it scaled alike '
                   f'(default comparison: {DEFAULT_INPUT_SIZE})')
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
    p.add_argument('--report-only', action='store_true',
                   help='only collect finished runs into the table / plot')
    p.add_argument('--dry-run', action='store_true',
                   help='write effective configs and print the commands')
    p.add_argument('--out', help='table / plot prefix (default: '
                   '<work-dir>/comparison)')
    p.add_argument('--title', default=None, help='plot title')
    args = p.parse_args(argv)
    if args.names and len(args.names) != len(args.configs or DEFAULT_CONFIGS):
        p.error('--names needs one name per config')
    if args.jobs < 1 or (args.threads is not None and args.threads < 1):
        p.error('--jobs and --threads must be >= 1')
    return args


# --------------------------------------------------------------------------
# Effective configs
# --------------------------------------------------------------------------
def method_name(config: str) -> str:
    """Short name from a config file name ``{algorithm}_{backbone}_...``."""
    stem = osp.splitext(osp.basename(config))[0]
    algo = stem.split('_')[0]
    return DEFAULT_NAMES.get(algo, stem) if stem.endswith(
        'synthetic-fgvc') else stem


def _datasets(loader: dict) -> List[dict]:
    """The dataset dict of a loader and the ones it wraps."""
    out, ds = [], loader.get('dataset')
    while isinstance(ds, dict):
        out.append(ds)
        ds = ds.get('dataset')
    return out


def _scale(value, factor: float):
    if isinstance(value, (list, tuple)):
        return type(value)(_scale(v, factor) for v in value)
    if isinstance(value, dict):
        return {k: _scale(v, factor) for k, v in value.items()}
    return int(round(value * factor))


def rescale_epochs(cfg: Config, epochs: int) -> None:
    """Set ``max_epochs`` and rescale epoch milestones proportionally.

    Applies to ``begin``/``end``/``milestones``/``T_max``/``step_size`` of
    every param scheduler and ``k1``/``k2`` of ``MarginScheduleHook``.
    """
    old = cfg.train_cfg.get('max_epochs')
    if old is None:
        raise ValueError('compare_methods: only epoch-based configs '
                         '(train_cfg.max_epochs) are supported')
    if epochs == old:
        return
    f = epochs / old
    scheds = cfg.get('param_scheduler') or []
    for s in scheds if isinstance(scheds, list) else [scheds]:
        for key in ('begin', 'milestones', 'T_max', 'step_size'):
            if key in s:
                s[key] = _scale(s[key], f)
        if 'end' in s and s['end'] < 1e8:
            s['end'] = max(int(round(s['end'] * f)), s.get('begin', 0) + 1)
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') == 'MarginScheduleHook':
            for key in ('k1', 'k2'):
                if key in hook:  # exact (float) milestones keep k1 < k2
                    k = round(hook[key] * f, 3)
                    hook[key] = int(k) if k == int(k) else k
    cfg.train_cfg.max_epochs = epochs


def set_input_size(cfg: Config, size: int) -> None:
    """Last crop of every pipeline -> ``size``; resizes before it alike."""
    for name in LOADERS:
        for ds in _datasets(cfg.get(name) or {}):
            pipe = ds.get('pipeline') or []
            crops = [t for t in pipe if t.get('type') in CROP_KEYS]
            old = None
            if crops:
                key = CROP_KEYS[crops[-1]['type']]
                old = crops[-1][key]
                old = old[0] if isinstance(old, (list, tuple)) else old
                for t in crops:
                    t[CROP_KEYS[t['type']]] = size
            for t in pipe:
                if t.get('type') in RESIZE_TYPES and 'scale' in t:
                    sc = t['scale']
                    ref = old if old else (
                        sc[0] if isinstance(sc, (list, tuple)) else sc)
                    f = size / ref
                    t['scale'] = _scale(sc, f) if old else size


def set_num_classes(cfg: Config, num_classes: int) -> None:
    cfg.model.head.num_classes = num_classes
    for holder in (cfg, cfg.model):
        if holder.get('data_preprocessor') is not None:
            holder.data_preprocessor['num_classes'] = num_classes


def num_classes_of(cfg: Config) -> int:
    head = cfg.model.get('head') or {}
    return int(head.get('num_classes', 0))


def evaluators(cfg: Config, num_classes: int) -> List[dict]:
    """Top-1/5, per-class mean accuracy, and CorLoc for two-branch models
    on data with boxes (keeping a LocalizationMetric the config has)."""
    topk = (1, 5) if num_classes >= 5 else (1, )
    evs = [dict(type='Accuracy', topk=topk),
           dict(type='SingleLabelMetric', items=('recall', ),
                average='macro')]
    old = cfg.get('val_evaluator')
    old = old if isinstance(old, list) else [old] if old else []
    loc = [e for e in old if e.get('type') == 'LocalizationMetric']
    has_boxes = all(
        ds.get('with_bbox', False)
        for ds in _datasets(cfg.get('val_dataloader') or {})[:1])
    if cfg.model.get('type') == 'TwoBranchClassifier' and has_boxes:
        evs.append(loc[0] if loc else dict(type='LocalizationMetric',
                                           iou_thr=0.5))
    return evs


def effective_config(config: str, seed: int, args: argparse.Namespace,
                     data_root: Optional[str],
                     num_classes: Optional[int]) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, config) if not osp.isabs(config)
                          else config)
    if args.epochs is not None:
        rescale_epochs(cfg, args.epochs)
    epochs = cfg.train_cfg.max_epochs
    cfg.train_cfg.val_interval = args.val_interval or epochs
    if args.input_size:
        set_input_size(cfg, args.input_size)
    if num_classes:
        set_num_classes(cfg, num_classes)
    if args.margin_overflow and (cfg.model.get('head') or {}).get(
            'type') == 'AngularMarginHead':
        cfg.model.head.overflow = args.margin_overflow
    for name in LOADERS:
        loader = cfg.get(name)
        if not loader:
            continue
        if data_root:
            for ds in _datasets(loader):
                if 'data_root' in ds:
                    ds['data_root'] = data_root
        if args.batch_size:
            loader['batch_size'] = args.batch_size
        if args.num_workers is not None or not args.gpus:
            loader['num_workers'] = (args.num_workers
                                     if args.num_workers is not None else 0)
            if loader['num_workers'] == 0:
                loader['persistent_workers'] = False
    evs = evaluators(cfg, num_classes_of(cfg))
    cfg.val_evaluator = evs
    cfg.test_evaluator = deepcopy(evs)
    cfg.randomness = dict(seed=seed, deterministic=False)
    # Keep only the last checkpoint (resume), no "best" model selection.
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, save_best=None)
    cfg.default_hooks.logger.interval = min(
        cfg.default_hooks.logger.get('interval', 50), 10)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def input_shape_of(cfg: Config) -> tuple:
    """(3, H, W) after the test pipeline's last crop or resize."""
    size = None
    for t in (_datasets(cfg.get('test_dataloader') or {})[:1] or [{}])[0].get(
            'pipeline', []):
        if t.get('type') in CROP_KEYS:
            size = t[CROP_KEYS[t['type']]]
        elif t.get('type') in RESIZE_TYPES and size is None:
            size = t.get('scale')
    size = size or 224
    if isinstance(size, (list, tuple)):
        return (3, size[1], size[0])  # mmcv scale is (w, h)
    return (3, size, size)


# --------------------------------------------------------------------------
# Complexity, logs, results
# --------------------------------------------------------------------------
def complexity(cfg: Config) -> Dict[str, float]:
    """Parameters and FLOPs of the full tensor-mode forward (batch 1)."""
    import torch
    from mmengine.analysis import get_model_complexity_info
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import projects.fgvc_aam  # noqa: F401
    init_default_scope('mmpretrain')
    model_cfg = deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)
    model = MODELS.build(model_cfg)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    shape = input_shape_of(cfg)
    flops = float('nan')
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)  # "unsupported operator" warnings
    try:
        with torch.no_grad():
            info = get_model_complexity_info(
                model, inputs=(torch.rand(1, *shape), ), show_table=False,
                show_arch=False)
        flops = float(info['flops'])
    except Exception as e:  # report the failure, keep the run
        print(f'  (FLOPs not counted: {type(e).__name__}: {e})')
    finally:
        logger.setLevel(level)
    return dict(params=params, flops=flops, input_shape=list(shape))


def read_scalars(run_dir: str) -> List[dict]:
    """All records of mmengine's ``vis_data/scalars.json`` (resumes too)."""
    recs = []
    for f in sorted(glob.glob(osp.join(run_dir, '2*', 'vis_data',
                                       'scalars.json'))):
        with open(f) as fh:
            recs += [json.loads(line) for line in fh if line.strip()]
    return recs


def summarise_log(recs: List[dict], images_per_iter: int) -> Dict:
    train = [r for r in recs if 'time' in r and 'loss' in r]
    val = [r for r in recs if 'accuracy/top1' in r]
    out: Dict = {}
    if val:
        last = val[-1]
        out.update({k: last[v] for k, v in METRIC_KEYS.items() if v in last})
        out['eval_epoch'] = last.get('step')
    if train:
        steady = [r for r in train if r.get('epoch', 1) > 1] or train
        out['train_img_per_s'] = images_per_iter / statistics.median(
            r['time'] for r in steady)
        mem = [r['memory'] for r in train if 'memory' in r]
        if mem:
            out['peak_cuda_mib'] = max(mem)
        out['final_loss'] = train[-1]['loss']
    return out


def signature(cfg_text: str) -> str:
    return hashlib.sha1(cfg_text.encode()).hexdigest()[:12]


def fmt_time(s: float) -> str:
    s = int(round(s))
    return f'{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}'


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------
class Progress:
    """Thread-safe progress lines with elapsed time and ETA."""

    def __init__(self, runs: List[dict]) -> None:
        self.runs = runs
        self.lock = threading.Lock()
        self.start = time.time()
        self.done: Dict[str, float] = {}  # run key -> duration

    def eta(self) -> str:
        todo = [r for r in self.runs if r['key'] not in self.done]
        if not self.done:
            return '?'
        mean = statistics.mean(self.done.values())
        by_cfg: Dict[str, List[float]] = {}
        for key, d in self.done.items():
            by_cfg.setdefault(key.rsplit('#', 1)[0], []).append(d)
        left = sum(
            statistics.mean(by_cfg.get(r['config'], [mean])) for r in todo)
        return fmt_time(left / self.runs[0]['jobs'])

    def log(self, msg: str) -> None:
        with self.lock:
            print(f'[{fmt_time(time.time() - self.start)}] {msg}',
                  flush=True)


EPOCH_RE = re.compile(r'Epoch\(train\)\s+\[(\d+)\]\[(\d+)/(\d+)\].*?'
                      r'eta: (\S+).*?loss: ([\d.naif]+)')
VAL_RE = re.compile(r'Epoch\(val\).*accuracy/top1: ([\d.]+)')


def train_command(cfg_path: str, run_dir: str, resume: bool,
                  gpus: int) -> List[str]:
    train = osp.join(ROOT, 'tools', 'train.py')
    if gpus > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               f'--nproc_per_node={gpus}', '--master_port',
               str(29500 + os.getpid() % 1000), train, cfg_path,
               '--launcher', 'pytorch']
    else:
        cmd = [sys.executable, train, cfg_path]
    cmd += ['--work-dir', run_dir]
    if resume:
        cmd.append('--resume')
    return cmd


def execute(run: dict, progress: Progress, threads: int) -> dict:
    """Train one run in a subprocess; return its result record."""
    run_dir, label = run['run_dir'], run['label']
    resume = bool(glob.glob(osp.join(run_dir, 'epoch_*.pth')))
    cmd = train_command(run['cfg_path'], run_dir, resume, run['gpus'])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH']
                                if env.get('PYTHONPATH') else '')
    progress.log(f'{label}: start{" (resume)" if resume else ""}')
    t0 = time.time()
    log_path = osp.join(run_dir, 'train.log')
    with open(log_path, 'a') as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                bufsize=1)
        for line in proc.stdout:
            log.write(line)
            log.flush()
            m = EPOCH_RE.search(line)
            if m and m.group(2) == m.group(3):
                progress.log(f'{label}: epoch {m.group(1)}/{run["epochs"]} '
                             f'loss {float(m.group(5)):.3f} '
                             f'run eta {m.group(4)}')
            m = VAL_RE.search(line)
            if m:
                progress.log(f'{label}: val top-1 {float(m.group(1)):.2f}')
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - t0
    result = dict(config=run['config'], name=run['name'], seed=run['seed'],
                  signature=run['signature'], returncode=proc.returncode,
                  wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                  peak_rss_mib=usage.ru_maxrss / 1024, threads=threads,
                  resumed=resume)  # then time / memory: the last part only
    if proc.returncode == 0:
        result.update(summarise_log(read_scalars(run_dir),
                                    run['images_per_iter']))
        with open(osp.join(run_dir, 'result.json'), 'w') as f:
            json.dump(result, f, indent=1)
    result.update(run['complexity'])
    progress.done[run['key']] = wall
    if proc.returncode == 0:
        progress.log(f'{label}: done in {fmt_time(wall)}, top-1 '
                     f'{result.get("top1", float("nan")):.2f} '
                     f'({len(progress.done)}/{len(progress.runs)} runs, '
                     f'ETA {progress.eta()})')
    else:
        progress.log(f'{label}: FAILED (exit {proc.returncode}), see '
                     f'{log_path}')
    return result


def prepare_data(args: argparse.Namespace, configs: List[str],
                 work_dir: str):
    """(data_root, num_classes) the runs use; generates synthetic data."""
    if args.data_root:
        return osp.abspath(args.data_root), None
    synthetic = []
    for c in configs:
        cfg = Config.fromfile(osp.join(ROOT, c) if not osp.isabs(c) else c)
        roots = [ds.get('data_root', '') for ds in _datasets(
            cfg.get('train_dataloader') or {})]
        synthetic.append(any('synthetic_fgvc' in str(r) for r in roots))
    if not any(synthetic):
        return None, None
    if not all(synthetic):
        raise ValueError('compare_methods: mixing synthetic and real-data '
                         'configs; pass --data-root')
    from projects.fgvc_aam.datasets.synthetic_fgvc import (
        make_synthetic_fgvc, synthetic_fgvc_is_complete)
    from projects.fgvc_aam.datasets.synthetic_fgvc import DEFAULT_PARAMS
    params = dict(DEFAULT_PARAMS, **args.synthetic_params)
    for key, value in params.items():  # DictAction keeps CLI strings
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    root = osp.join(work_dir, 'data', 'synthetic_fgvc')
    if not synthetic_fgvc_is_complete(root, **params):
        t0 = time.time()
        make_synthetic_fgvc(root, **params)
        print(f'generated the synthetic set into {root} '
              f'({time.time() - t0:.1f} s): {params}')
    return root, int(params['num_classes'])


def plan(args: argparse.Namespace) -> List[dict]:
    configs = args.configs or DEFAULT_CONFIGS
    default = not args.configs
    if default:
        if args.epochs is None:
            args.epochs = DEFAULT_EPOCHS
        if args.input_size is None:
            args.input_size = DEFAULT_INPUT_SIZE
    work_dir = osp.abspath(args.work_dir)
    data_root, num_classes = prepare_data(args, configs, work_dir)
    names = args.names or [method_name(c) for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f'compare_methods: duplicate method names {names}')
    runs = []
    cplx: Dict[str, dict] = {}
    # Seed-major order: a partial job covers every method with the first
    # seeds before it starts the next seed.
    for seed in args.seeds:
        for config, name in zip(configs, names):
            slug = re.sub(r'[^A-Za-z0-9._-]+', '-', osp.splitext(
                osp.basename(config))[0])
            cfg = effective_config(config, seed, args, data_root,
                                   num_classes)
            run_dir = osp.join(work_dir, 'runs', slug, f'seed_{seed}')
            os.makedirs(run_dir, exist_ok=True)
            cfg_path = osp.join(run_dir, f'{slug}.py')
            sig = signature(cfg.pretty_text)
            old = osp.join(run_dir, 'result.json')
            if osp.isfile(old) and not args.retrain:
                with open(old) as f:
                    prev = json.load(f)
                if prev.get('signature') != sig:
                    raise RuntimeError(
                        f'compare_methods: {run_dir} holds a finished run of '
                        'a different effective config; pass --retrain or '
                        'another --work-dir')
            sig_path = osp.join(run_dir, 'signature')
            stale = False
            if osp.isfile(sig_path):
                with open(sig_path) as f:
                    stale = f.read() != sig
            if args.retrain or (stale and not osp.isfile(old)):
                # a different (or forced) run: start this folder afresh
                for f in glob.glob(osp.join(run_dir, '*')):
                    (shutil.rmtree if osp.isdir(f) else os.remove)(f)
            cfg.dump(cfg_path)
            with open(sig_path, 'w') as f:
                f.write(sig)
            if config not in cplx:
                cplx_path = osp.join(work_dir, 'runs', slug,
                                     'complexity.json')
                if osp.isfile(cplx_path) and not args.retrain:
                    with open(cplx_path) as f:
                        cplx[config] = json.load(f)
                else:
                    cplx[config] = complexity(cfg)
                    with open(cplx_path, 'w') as f:
                        json.dump(cplx[config], f)
            world = max(args.gpus, 1)
            runs.append(dict(
                config=config, name=name, seed=seed, run_dir=run_dir,
                cfg_path=cfg_path, signature=sig, complexity=cplx[config],
                epochs=cfg.train_cfg.max_epochs, gpus=args.gpus,
                jobs=args.jobs, key=f'{config}#{seed}',
                label=f'{name} [seed {seed}]',
                images_per_iter=cfg.train_dataloader.batch_size * world))
    return runs


def run_all(runs: List[dict], args: argparse.Namespace) -> List[dict]:
    todo, results = [], []
    for run in runs:
        path = osp.join(run['run_dir'], 'result.json')
        if osp.isfile(path):
            with open(path) as f:
                res = json.load(f)
            res.update(run['complexity'])
            results.append(res)
        else:
            todo.append(run)
    print(f'{len(runs)} runs: {len(results)} finished before, '
          f'{len(todo)} to train ({args.jobs} in parallel)', flush=True)
    if args.dry_run or args.report_only:
        for run in todo:
            print(' '.join(train_command(run['cfg_path'], run['run_dir'],
                                         False, run['gpus'])))
        return results
    cores = len(os.sched_getaffinity(0))
    threads = args.threads or max(1, cores // args.jobs)
    progress = Progress(todo)
    lock = threading.Lock()
    queue = list(todo)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                run = queue.pop(0)
            res = execute(run, progress, threads)
            with lock:
                results.append(res)

    pool = [threading.Thread(target=worker) for _ in range(args.jobs)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


# --------------------------------------------------------------------------
# Table and plot
# --------------------------------------------------------------------------
COLUMNS = OrderedDict([
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


def aggregate(results: List[dict], order: List[str]) -> List[dict]:
    """One row per method: mean and sample std over seeds."""
    from scipy import stats
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
        if row is not rows[0] and len(vals) > 1 and len(ref) > 1:
            if statistics.pstdev(vals) + statistics.pstdev(ref) > 0:
                row['p_value'] = float(stats.ttest_ind(
                    vals, ref, equal_var=False).pvalue)
    return rows


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


def write_table(rows: List[dict], prefix: str, meta: dict) -> str:
    mem = 'peak CUDA memory' if meta.get('cuda') else 'peak RSS'
    head = (['method'] + list(COLUMNS.values()) +
            [f'Δ top-1 vs {rows[0]["name"]}', 'p (Welch)', 'seeds'])
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join([':---'] + [':---:'] * (len(head) - 1)) + '|']
    for row in rows:
        cells = [row['name']] + [_cell(row, k) for k in COLUMNS]
        cells.append('-' if row['delta_top1'] is None or row is rows[0]
                     else f'{row["delta_top1"]:+.2f}')
        cells.append('-' if row['p_value'] is None
                     else f'{row["p_value"]:.3f}')
        seeds = ' '.join(map(str, row['seeds'])) or '-'
        if row['failed']:
            seeds += f' ({row["failed"]} failed)'
        cells.append(seeds)
        lines.append('| ' + ' | '.join(cells) + ' |')
    notes = [
        '',
        f'Mean ± sample std over seeds; {meta["epochs"]} epochs, input '
        f'{meta["input"]} px, batch {meta["batch"]}; "{COLUMNS["peak_mem_mib"]}"'
        f' is the {mem} of the training process; FLOPs of one '
        f'{meta["input"]} px image (full test-time forward). Wall time '
        f'{fmt_time(meta["wall_s"])} for the runs trained in this '
        f'invocation, {meta["cpu_h"]:.2f} CPU-hours over all runs.',
    ]
    md = '\n'.join(lines + notes) + '\n'
    with open(prefix + '.md', 'w') as f:
        f.write(md)
    with open(prefix + '.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['method', 'config'] + [
            x for k in COLUMNS for x in (k, k + '_std')] +
            ['delta_top1', 'p_value', 'seeds'])
        for row in rows:
            w.writerow([row['name'], row['config']] + [
                row.get(x) for k in COLUMNS for x in (k, k + '_std')] +
                [row['delta_top1'], row['p_value'],
                 ' '.join(map(str, row['seeds']))])
    return md


def write_runs_csv(results: List[dict], path: str) -> None:
    keys = ['name', 'config', 'seed', 'returncode', 'top1', 'top5',
            'class_mean', 'corloc', 'train_img_per_s', 'peak_rss_mib',
            'peak_cuda_mib', 'params', 'flops', 'wall_s', 'cpu_s',
            'threads', 'final_loss', 'eval_epoch']
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
    width = 0.38
    for off, key, label, color in ((-width / 2, 'top1', 'top-1', 'C0'),
                                   (width / 2, 'class_mean',
                                    'per-class mean', 'C1')):
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
    ax.set_title('test accuracy (mean ± std, dots: seeds)', fontsize=9)
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
    ax2.set_title('accuracy vs training speed (size: parameters)',
                  fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=6, loc='best')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    runs = plan(args)
    results = run_all(runs, args)
    if args.dry_run:
        return 0
    order = list(OrderedDict.fromkeys(r['name'] for r in runs))
    work_dir = osp.abspath(args.work_dir)
    prefix = args.out or osp.join(work_dir, 'comparison')
    os.makedirs(osp.dirname(osp.abspath(prefix)), exist_ok=True)
    if not results:
        print('no finished run to report')
        return 1
    rows = aggregate(results, order)
    first = runs[0]
    cfg = Config.fromfile(first['cfg_path'])
    meta = dict(
        epochs=first['epochs'], input=input_shape_of(cfg)[-1],
        batch=first['images_per_iter'],
        cuda=any('peak_cuda_mib' in r for r in results),
        wall_s=time.time() - t0,
        cpu_h=sum(r.get('cpu_s', 0) for r in results) / 3600)
    md = write_table(rows, prefix, meta)
    write_runs_csv(results, prefix + '_runs.csv')
    plot(rows, prefix + '.png', args.title or (
        f'{len(rows)} methods, {meta["epochs"]} epochs, seeds '
        f'{" ".join(map(str, args.seeds))}'))
    print('\n' + md)
    print(f'wrote {prefix}.md, {prefix}.csv, {prefix}_runs.csv, '
          f'{prefix}.png (total {fmt_time(time.time() - t0)})')
    return 0 if all(r.get('returncode', 0) == 0 for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())

"""Running the comparison: one (config, seed) is one subprocess of
``tools/train.py`` (the real training path), then, in the finetune regime,
one of :mod:`.evaluate` (the carved validation split and the test split,
every ``test_branch`` of a two-branch model). Resumable; progress lines
with elapsed time and ETA; results in ``<run>/result.json``."""
import glob
import hashlib
import json
import logging
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import threading
import time
from copy import deepcopy
from typing import Dict, List

from mmengine.config import Config

from .budget import input_shape_of
from .results import RESULT_FILE, has_metrics, read_result, write_result

# the repository (configs/, tools/): the package is installed from it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METRIC_KEYS = {
    'top1': 'accuracy/top1',
    'top5': 'accuracy/top5',
    'class_mean': 'single-label/recall',
    'corloc': 'localization/CorLoc',
}


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


def metrics_of(record: dict) -> Dict[str, float]:
    """Our metric names from an mmengine metrics dict."""
    return {k: record[v] for k, v in METRIC_KEYS.items() if v in record}


def summarise_log(recs: List[dict], images_per_iter: int) -> Dict:
    train = [r for r in recs if 'time' in r and 'loss' in r]
    val = [r for r in recs if 'accuracy/top1' in r]
    out: Dict = {}
    if val:
        last = val[-1]
        out.update(metrics_of(last))
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
            statistics.mean(by_cfg.get(r['key'].rsplit('#', 1)[0], [mean]))
            for r in todo)
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


def evaluate_command(run: dict) -> List[str]:
    """The :mod:`.evaluate` call of a finished finetune-regime run."""
    cmd = [sys.executable, '-m', 'fgvc_aam_tools.compare.evaluate',
           run['cfg_path'],
           osp.join(run['run_dir'], f'epoch_{run["epochs"]}.pth'),
           '--out', osp.join(run['run_dir'], 'eval.json')]
    if run.get('branches'):
        cmd += ['--branches'] + list(run['branches'])
    return cmd


def run_env(threads: int) -> dict:
    """The environment of a training / testing subprocess."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    return env


def execute(run: dict, progress: Progress, threads: int) -> dict:
    """Train (and evaluate) one run in subprocesses; its result record."""
    run_dir, label = run['run_dir'], run['label']
    resume = bool(glob.glob(osp.join(run_dir, 'epoch_*.pth')))
    cmd = train_command(run['cfg_path'], run_dir, resume, run['gpus'])
    env = run_env(threads)
    progress.log(f'{label}: start{" (resume)" if resume else ""}')
    t0 = time.time()
    log_path = osp.join(run_dir, 'train.log')
    cpu = 0.0
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
        cpu += usage.ru_utime + usage.ru_stime
        returncode = os.waitstatus_to_exitcode(status)
        train_wall = time.time() - t0
        evaluation = None
        if returncode == 0 and run.get('evaluate'):
            eproc = subprocess.Popen(evaluate_command(run), cwd=ROOT,
                                     env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
            _, status, eusage = os.wait4(eproc.pid, 0)
            cpu += eusage.ru_utime + eusage.ru_stime
            returncode = os.waitstatus_to_exitcode(status)
            if returncode == 0:
                with open(osp.join(run_dir, 'eval.json')) as f:
                    evaluation = json.load(f)
    wall = time.time() - t0
    result = dict(config=run['config'], name=run['name'], seed=run['seed'],
                  signature=run['signature'], returncode=returncode,
                  wall_s=wall, train_wall_s=train_wall, cpu_s=cpu,
                  peak_rss_mib=usage.ru_maxrss / 1024, threads=threads,
                  resumed=resume)  # then time / memory: the last part only
    if returncode == 0:
        result.update(summarise_log(read_scalars(run_dir),
                                    run['images_per_iter']))
        if evaluation is not None:
            result['evaluation'] = evaluation
        returncode = record_result(run, result, env, log_path)
        result['returncode'] = returncode
    result.update(run['complexity'])
    result['run_dir'] = run_dir
    progress.done[run['key']] = wall
    if returncode == 0:
        top1 = result.get('top1', float('nan'))
        if evaluation is not None:
            top1 = evaluation['own']['test'].get('top1', float('nan'))
        progress.log(f'{label}: done in {fmt_time(wall)}, top-1 '
                     f'{top1:.2f}{" (test)" if evaluation else ""} '
                     f'({len(progress.done)}/{len(progress.runs)} runs, '
                     f'ETA {progress.eta()})')
    else:
        progress.log(f'{label}: FAILED (exit {returncode}), see '
                     f'{log_path}')
    return result


def evaluate_missing_metrics(run: dict, result: dict, env: dict,
                             log_path: str) -> int:
    """A run whose training left no validation (e.g. killed after its last
    checkpoint, then resumed with nothing to train): evaluate the last
    checkpoint on the val split; its metrics go into ``result``."""
    with open(log_path, 'a') as log:
        proc = subprocess.run(evaluate_command(run), cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        return proc.returncode
    with open(osp.join(run['run_dir'], 'eval.json')) as f:
        result.update(json.load(f)['own']['val'])
    result['metrics_from'] = 'eval.json (val split, last checkpoint)'
    return 0


def record_result(run: dict, result: dict, env: dict, log_path: str) -> int:
    """Write ``result.json`` only with metrics (evaluated here when the
    training logged none); the run's exit status (non-zero: not done)."""
    returncode = 0
    if not has_metrics(result) and not run.get('evaluate'):
        returncode = evaluate_missing_metrics(run, result, env, log_path)
    if returncode == 0 and not has_metrics(result):
        returncode = 1
        with open(log_path, 'a') as log:
            log.write('compare_methods: the run recorded no metrics; not '
                      'marked done\n')
    if returncode == 0:
        write_result(osp.join(run['run_dir'], RESULT_FILE), result)
    return returncode


def finished_result(run: dict):
    """The run's result record if it is done (metrics written), else None;
    a broken ``result.json`` raises, naming it."""
    path = osp.join(run['run_dir'], RESULT_FILE)
    if not osp.lexists(path):
        return None
    res = read_result(path)
    if not has_metrics(res):
        print(f'{path}: no metrics recorded; evaluating the run again',
              flush=True)
        return None
    return res


def run_all(runs: List[dict], jobs: int, threads=None, dry_run=False,
            report_only=False) -> List[dict]:
    """Train what is not finished (each run folder once); all results."""
    todo, results, seen = [], [], set()
    for run in runs:
        if run['run_dir'] in seen:
            continue
        seen.add(run['run_dir'])
        res = finished_result(run)
        if res is not None:
            res.update(run['complexity'])
            res['run_dir'] = run['run_dir']
            results.append(res)
        else:
            todo.append(run)
    print(f'{len(seen)} runs: {len(results)} finished before, '
          f'{len(todo)} to train ({jobs} in parallel)', flush=True)
    if dry_run or report_only:
        for run in todo:
            print(' '.join(train_command(run['cfg_path'], run['run_dir'],
                                         False, run['gpus'])))
            if run.get('evaluate'):
                print(' '.join(evaluate_command(run)))
        return results
    cores = len(os.sched_getaffinity(0))
    threads = threads or max(1, cores // jobs)
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

    pool = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results

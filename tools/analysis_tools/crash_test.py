"""Crash consistency: SIGKILL a training N times, resume each time, and
compare the final weights with an uninterrupted run of the same seed.

1. makes a small synthetic data set (``--synthetic``) unless ``--data-root``
   is given;
2. trains ``--config`` (``configs/quickstart.py``) uninterrupted for
   ``--epochs`` epochs into ``WORK/reference``;
3. trains it again into ``WORK/crashed`` with ``tools/train.py --resume``,
   killing the process with SIGKILL ``--kills`` times: every other kill
   lands inside a checkpoint write (the atomic checkpoint hook pauses
   ``--save-pause`` seconds in the middle of each write, through the test
   hook ``FGVC_AAM_TEST_SAVE_PAUSE``; the kill comes when a
   ``*.tmp-saving`` file appears), the others after a random number of
   training iterations (up to one and a half epochs) plus up to one
   iteration's time (training, validating or saving); after the last kill
   the run is resumed to its end;
4. prints the kills, the resumes and the largest difference between the two
   final ``state_dict``s; exits 1 if it exceeds ``--tolerance``.

Both runs use ``randomness.deterministic=True``, no dataloader workers and
one thread, and the config's ``EpochSeedHook`` reseeds every epoch, so a
resumed run replays exactly what the uninterrupted one did: the expected
difference is 0 (bit-identical).

    python tools/analysis_tools/crash_test.py --kills 30 --epochs 12 \\
        --work-dir work_dirs/crash_test
"""
import argparse
import glob
import os
import os.path as osp
import random
import re
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import fgvc_aam_tools.quiet_warnings  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/quickstart.py')
    p.add_argument('--kills', type=int, default=30)
    p.add_argument('--epochs', type=int, default=12)
    p.add_argument('--work-dir', default='work_dirs/crash_test')
    p.add_argument('--data-root', default=None,
                   help='a CUB-layout data root (default: generated)')
    p.add_argument('--synthetic', nargs='*', default=[
        'num_classes=5', 'images_per_class=12', 'train_per_class=8',
        'image_size=64'], help='KEY=VALUE parameters of the generated data')
    p.add_argument('--seed', type=int, default=0,
                   help='training seed (randomness.seed)')
    p.add_argument('--kill-seed', type=int, default=0,
                   help='seed of the kill moments')
    p.add_argument('--save-pause', type=float, default=0.5,
                   help='seconds each checkpoint write pauses half-way')
    p.add_argument('--tolerance', type=float, default=0.0,
                   help='largest allowed weight difference')
    p.add_argument('--cfg-options', nargs='*', default=[])
    return p.parse_args(argv)


def _value(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def make_data(args: argparse.Namespace) -> str:
    from fgvc_aam_tools.synthetic_fgvc import (make_synthetic_fgvc,
                                               synthetic_fgvc_is_complete)
    if args.data_root:
        return args.data_root
    params = {k: _value(v) for k, v in
              (item.split('=', 1) for item in args.synthetic)}
    root = osp.join(args.work_dir, 'data')
    if not synthetic_fgvc_is_complete(root, **params):
        make_synthetic_fgvc(root, **params)
    return root


def num_classes(root: str) -> int:
    with open(osp.join(root, 'classes.txt')) as f:
        return sum(1 for line in f if line.strip())


def short_run_margin_options(config: str, epochs: int) -> List[str]:
    """``--cfg-options`` that let a run shorter than the config's schedule
    keep its margin milestones (``MarginScheduleHook`` refuses milestones
    the run never reaches unless told it is deliberate): the crash test is
    about resuming, not about the margin."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    if epochs >= cfg.train_cfg.max_epochs:
        return []
    return [f'custom_hooks.{i}.allow_unreached_milestones=True'
            for i, hook in enumerate(cfg.get('custom_hooks', []))
            if hook.get('type') == 'MarginScheduleHook']


def train_command(args, work_dir: str, data_root: str) -> List[str]:
    classes = num_classes(data_root)
    opts = [f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')] + [
                f'model.head.num_classes={classes}',
                f'data_preprocessor.num_classes={classes}',
                f'train_cfg.max_epochs={args.epochs}',
                f'train_cfg.val_interval={args.epochs}',
                f'randomness.seed={args.seed}',
                'randomness.deterministic=True',
                'train_dataloader.num_workers=0',
                'default_hooks.checkpoint.max_keep_ckpts=2',
                'default_hooks.logger.interval=1',
                *short_run_margin_options(args.config, args.epochs),
                *args.cfg_options]
    return [sys.executable, 'tools/train.py', args.config, '--work-dir',
            work_dir, '--resume', '--cfg-options', *opts]


def _env(pause: float = 0.) -> Dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    if pause:
        from projects.fgvc_aam_hardening.hooks.atomic_checkpoint_hook import \
            SAVE_PAUSE_ENV
        env[SAVE_PAUSE_ENV] = str(pause)
    return env


def _start(cmd: List[str], log: str, pause: float) -> subprocess.Popen:
    with open(log, 'a') as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=_env(pause), stdout=out,
                                stderr=subprocess.STDOUT)


def _final(work_dir: str, epochs: int) -> str:
    return osp.join(work_dir, f'epoch_{epochs}.pth')


def _writes(work_dir: str) -> set:
    """The checkpoint writes under way or cut short in ``work_dir``:
    ``*.tmp-saving`` files, as (path, inode, mtime)."""
    found = set()
    for path in glob.glob(osp.join(work_dir, '*.tmp-saving')):
        try:
            st = os.stat(path)
        except OSError:  # renamed meanwhile
            continue
        found.add((path, st.st_ino, st.st_mtime_ns))
    return found


def _iterations(log: str, offset: int = 0) -> int:
    """Training iterations logged to ``log`` from byte ``offset`` on (the
    logger logs every iteration)."""
    if not osp.exists(log):
        return 0
    with open(log, 'rb') as f:
        f.seek(offset)
        return f.read().count(b'Epoch(train)')


def _wait_until(proc: subprocess.Popen, ready, limit: float) -> bool:
    """Poll ``ready()`` until it is true; False if the process ended or
    ``limit`` seconds passed first."""
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        if ready():
            return True
        time.sleep(0.01)
    return False


def _wait_for_save(proc: subprocess.Popen, work_dir: str, old: set,
                   limit: float) -> bool:
    """Wait until a new checkpoint write (not a leftover in ``old``) is
    under way."""
    return _wait_until(proc, lambda: bool(_writes(work_dir) - old), limit)


def crash_run(args, data_root: str, epoch_s: float, iters: int,
              log) -> Dict:
    """The killed-and-resumed run; returns its counts."""
    work = osp.join(args.work_dir, 'crashed')
    os.makedirs(work, exist_ok=True)
    cmd = train_command(args, work, data_root)
    rng = random.Random(args.kill_seed)
    stats = dict(kills=0, kills_in_save=0, resumes=0, runs=0)
    train_log = osp.join(args.work_dir, 'crashed.log')
    while stats['kills'] < args.kills:
        if osp.isfile(_final(work, args.epochs)):
            log(f'the run finished after {stats["kills"]} kills')
            break
        stats['runs'] += 1
        stats['resumes'] += stats['runs'] > 1
        old = _writes(work)
        offset = osp.getsize(train_log) if osp.exists(train_log) else 0
        proc = _start(cmd, train_log, args.save_pause)
        in_save = stats['kills'] % 2 == 0
        limit = epoch_s * (args.epochs + 2) + 120
        if in_save:
            hit = _wait_for_save(proc, work, old, limit)
            if hit:
                time.sleep(rng.uniform(0, args.save_pause * 0.8))
        else:
            # after a random number of training iterations of this run,
            # up to one and a half epochs but at least one short of the
            # end (so that kills remain), plus up to one iteration's time:
            # training, validating or saving
            left = (args.epochs - _newest_epoch(work)) * iters - 1
            count = rng.randint(1, max(1, min(int(1.5 * iters), left)))
            hit = _wait_until(
                proc, lambda: _iterations(train_log, offset) >= count, limit)
            if hit:
                _wait_until(proc, lambda: False,
                            rng.uniform(0., epoch_s / iters))
                hit = proc.poll() is None
        if proc.poll() is None and hit:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stats['kills'] += 1
            stats['kills_in_save'] += bool(_writes(work) - old)
            where = ('inside a checkpoint write' if _writes(work) - old
                     else 'outside a checkpoint write')
            aim = 'aimed at a write' if in_save else 'at random'
            log(f'kill {stats["kills"]} ({aim}): {where}; files '
                f'{sorted(_names(work))}')
        else:
            proc.wait()
            if proc.returncode != 0:
                raise RuntimeError(f'crash_test: the training exited '
                                   f'{proc.returncode}; see {train_log}')
    if not osp.isfile(_final(work, args.epochs)):
        stats['runs'] += 1
        stats['resumes'] += stats['runs'] > 1
        proc = _start(cmd, train_log, 0.)
        if proc.wait() != 0:
            raise RuntimeError(f'crash_test: the last resume exited '
                               f'{proc.returncode}; see {train_log}')
    return stats


def _newest_epoch(work: str) -> int:
    """The largest N of the ``epoch_N.pth`` in ``work`` (0 if none)."""
    found = [int(m.group(1)) for m in (
        re.match(r'^epoch_(\d+)\.pth$', name) for name in os.listdir(work))
        if m]
    return max(found, default=0)


def _names(work: str) -> List[str]:
    return [osp.basename(p) for p in glob.glob(osp.join(work, '*.pth*'))]


def max_difference(a: str, b: str) -> float:
    import torch

    from projects.fgvc_aam.engine import load_checkpoint_file
    sa = load_checkpoint_file(a, 'cpu')['state_dict']
    sb = load_checkpoint_file(b, 'cpu')['state_dict']
    if sorted(sa) != sorted(sb):
        raise ValueError(f'{a} and {b} hold different tensors')
    worst = 0.
    for key, value in sa.items():
        if value.is_floating_point():
            diff = (value.double() - sb[key].double()).abs().max().item()
        else:
            diff = float(not torch.equal(value, sb[key]))
        worst = max(worst, diff)
    return worst


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    args.work_dir = osp.abspath(args.work_dir)
    if osp.exists(osp.join(args.work_dir, 'reference')) or osp.exists(
            osp.join(args.work_dir, 'crashed')):
        sys.exit(f'crash_test: {args.work_dir} holds an earlier crash test; '
                 'choose another --work-dir (nothing was overwritten)')
    os.makedirs(args.work_dir, exist_ok=True)
    start = time.time()

    def log(msg: str) -> None:
        print(f'[{time.time() - start:6.1f} s] {msg}', flush=True)

    data_root = osp.abspath(make_data(args))
    reference = osp.join(args.work_dir, 'reference')
    os.makedirs(reference)
    t0 = time.time()
    proc = _start(train_command(args, reference, data_root),
                  osp.join(args.work_dir, 'reference.log'), 0.)
    reference_log = osp.join(args.work_dir, 'reference.log')
    _wait_until(proc, lambda: _iterations(reference_log) > 0, 600)
    t_training = time.time()
    if proc.wait() != 0:
        raise RuntimeError('crash_test: the reference run exited '
                           f'{proc.returncode}; see reference.log')
    epoch_s = (time.time() - t_training) / args.epochs
    iters = max(1, _iterations(reference_log) // args.epochs)
    log(f'reference run: {time.time() - t0:.1f} s ({epoch_s:.1f} s and '
        f'{iters} iterations an epoch)')
    stats = crash_run(args, data_root, epoch_s, iters, log)
    diff = max_difference(_final(reference, args.epochs),
                          _final(osp.join(args.work_dir, 'crashed'),
                                 args.epochs))
    print(f'kills: {stats["kills"]} ({stats["kills_in_save"]} inside a '
          f'checkpoint write), resumes: {stats["resumes"]}, max weight '
          f'difference: {diff:.3g}, wall time: {time.time() - start:.0f} s')
    return 0 if diff <= args.tolerance else 1


if __name__ == '__main__':
    sys.exit(main())

"""Shared helpers of the end-to-end reliability tests (subprocess runs of
the tools, checkpoint and log readers, file-tree snapshots)."""
import glob
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

import torch

from tools_helpers import ROOT

TESTS = osp.join(ROOT, 'tests')


def root_and_classes(synthetic_root) -> Tuple[str, int]:
    """The ``synthetic_root`` fixture as ``(path, num_classes)`` (it is a
    path; older versions returned the pair)."""
    if isinstance(synthetic_root, (tuple, list)):
        return str(synthetic_root[0]), int(synthetic_root[1])
    with open(osp.join(synthetic_root, 'classes.txt')) as f:
        return str(synthetic_root), sum(1 for line in f if line.strip())


def tool_env(extra_pythonpath: Optional[str] = None,
             **extra: str) -> Dict[str, str]:
    """Environment of a tool subprocess: one intra-op thread, unbuffered
    output, this checkout (and optionally ``tests/``) importable, plus
    ``extra`` variables (e.g. ``PORT`` of tools/dist_train.sh)."""
    path = ROOT if extra_pythonpath is None else (ROOT + os.pathsep +
                                                 extra_pythonpath)
    env = dict(os.environ, PYTHONPATH=path, PYTHON=sys.executable,
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(cmd: List[str], log: str, **env_kwargs) -> subprocess.Popen:
    """Start ``cmd`` in the repository root, stdout + stderr to ``log``;
    ``env_kwargs`` go to :func:`tool_env`."""
    out = open(log, 'w')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=tool_env(**env_kwargs),
                            stdout=out, stderr=subprocess.STDOUT)
    proc.log_path = log
    out.close()
    return proc


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    """Wait for ``proc``; raise with the end of its log unless it exited 0.
    Returns the log."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with open(proc.log_path) as f:
        log = f.read()
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, proc.args))} exited '
                             f'{proc.returncode}\n{log[-5000:]}')
    return log


def train_cmd(config: str, work_dir: str, *extra: str) -> List[str]:
    return [sys.executable, 'tools/train.py', config, '--work-dir',
            str(work_dir), *extra]


def load_checkpoint(path: str) -> dict:
    import projects.fgvc_aam  # noqa: F401  (allow-lists mmengine globals)
    return torch.load(path, map_location='cpu', weights_only=True)


def scalars(work_dir: str) -> List[List[dict]]:
    """Records of each run's ``vis_data/scalars.json`` in ``work_dir``,
    one list per run (oldest first)."""
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            runs.append([json.loads(line) for line in f if line.strip()])
    assert runs, f'no scalars.json under {work_dir}'
    return runs


def train_records(records: List[dict]) -> Dict[int, dict]:
    """Training-iteration records by global iteration."""
    return {r['step']: r for r in records if 'loss' in r}


def val_records(records: List[dict]) -> Dict[int, dict]:
    """Validation records by epoch."""
    return {r['step']: r for r in records if 'accuracy/top1' in r}


def snapshot(root: str) -> Dict[str, tuple]:
    """Every entry under ``root``: sha256 and mtime of files, ``'dir'`` for
    directories (so added, removed, rewritten or touched files show)."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            entries[osp.relpath(osp.join(dirpath, name), root)] = ('dir', )
        for name in filenames:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            entries[osp.relpath(path, root)] = (digest,
                                                os.stat(path).st_mtime_ns)
    return entries


def assert_state_dicts_equal(a: dict, b: dict, what: str) -> None:
    """Same keys and bit-identical tensors."""
    assert a.keys() == b.keys(), what
    for key in a:
        assert torch.equal(a[key], b[key]), (
            f'{what}: {key} differs (max abs diff '
            f'{(a[key].double() - b[key].double()).abs().max().item():.3g})')

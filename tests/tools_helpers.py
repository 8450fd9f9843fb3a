"""Run the project's command-line tools in subprocesses, as a user would."""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = 'tests/configs/tiny_softmax_synthetic.py'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def data_options(root: str, num_classes: int) -> List[str]:
    """--cfg-options pointing a config at a data root with N classes."""
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                f'model.head.num_classes={num_classes}',
                f'data_preprocessor.num_classes={num_classes}',
            ]


def run(cmd: List[str],
        env: Optional[Dict[str, str]] = None,
        timeout: int = 600,
        check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable,
                    OMP_NUM_THREADS='1', **(env or {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(cmd)} exited {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-4000:]}\n'
            f'--- stderr ---\n{proc.stderr[-4000:]}')
    return proc


def python_tool(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run([sys.executable, *args], **kwargs)

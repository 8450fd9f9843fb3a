"""No hang in CPU data-parallel runs (issue 13, case 5).

Real ``torchrun`` jobs of two ranks whose processes go through the tools'
``prepare_runtime`` (which initialises the gloo group):

- rank 1 stalls after the group is up while rank 0 waits in a barrier: with
  ``env_cfg.dist_cfg.timeout=3`` the job must end non-zero well inside the
  bound of the subprocess call (on main gloo's default of 30 minutes
  applies and the call times out);
- the ``torchrun`` launcher is killed with SIGKILL: its ranks must end too
  (on main they keep running as orphans).
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, free_port, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

RANK_SCRIPT = '''
import os, sys, time
import torch.distributed as dist
from mmengine.config import Config
from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
cfg = Config(dict(launcher='pytorch', env_cfg=dict(
    dist_cfg=dict(backend='gloo', timeout=3))))
prepare_runtime(cfg, training=False)
rank = dist.get_rank()
with open(os.path.join({out!r}, f'pid{{rank}}'), 'w') as f:
    f.write(str(os.getpid()))
if sys.argv[1] == 'stall':
    if rank == 1:
        time.sleep(600)  # stalled: never reaches the barrier
    dist.barrier()
else:  # 'train': keep going until stopped
    while True:
        time.sleep(0.2)
'''


def _torchrun(tmp_path, mode: str) -> subprocess.Popen:
    script = tmp_path / 'rank.py'
    script.write_text(RANK_SCRIPT.format(out=str(tmp_path)))
    log = open(tmp_path / f'{mode}.log', 'w')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'torch.distributed.run', '--nnodes=1',
         '--nproc_per_node=2', '--master_addr=127.0.0.1',
         f'--master_port={free_port()}', str(script), mode],
        cwd=ROOT, env=tool_env(), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def _rank_pids(tmp_path, deadline: float) -> list:
    paths = [tmp_path / f'pid{r}' for r in (0, 1)]
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.time() < deadline, 'the ranks never started'
        time.sleep(0.1)
    return [int(p.read_text()) for p in paths]


def test_stalled_rank_ends_job_after_configured_timeout(tmp_path):
    proc = _torchrun(tmp_path, 'stall')
    try:
        # bound: start-up (2 imports on a shared CPU) + 3 s timeout + margin
        proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        pids = _rank_pids(tmp_path, time.time() + 1)
        proc.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        pytest.fail('a stalled rank hung the job past the configured '
                    'dist_cfg timeout (gloo default: 30 minutes)')
    log = (tmp_path / 'stall.log').read_text()
    assert proc.returncode != 0, log[-3000:]
    assert 'timeout' in log.lower() or 'timed out' in log.lower(), log[-3000:]
    for pid in _rank_pids(tmp_path, time.time() + 1):
        assert not _alive(pid)


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='parent-death signal is Linux only')
def test_killed_launcher_leaves_no_rank_running(tmp_path):
    proc = _torchrun(tmp_path, 'train')
    pids = []
    try:
        pids = _rank_pids(tmp_path, time.time() + 150)
        proc.send_signal(signal.SIGKILL)  # the launcher, no clean-up
        proc.wait()
        deadline = time.time() + 20
        while any(_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.1)
        left = [p for p in pids if _alive(p)]
        assert not left, f'ranks {left} kept running after the launcher died'
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

"""tools/slurm_train.sh and tools/slurm_test.sh on a real Slurm cluster
(issue 23): the one-node cluster of ``tools/ci/start_slurm.sh``, CPU tasks
(``GPUS_PER_NODE=0``) training data-parallel on gloo.

- 2-task training on the tiny synthetic set writes one work dir (one run
  directory, one lock holder) and its checkpoint, with world size 2 (on
  main one task is refused with WorkDirBusyError, the other dies in
  ``torch.cuda.set_device``);
- 2-task testing of that checkpoint gives the run's own validation top-1;
- ``scancel`` of a running job leaves no process, and ``--resume``
  continues from its last checkpoint;
- a stalled task ends the job within ``env_cfg.dist_cfg.timeout``.
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import time
import uuid

import pytest

from tests.helpers import (ROOT, data_options, finish, free_port,
                           load_checkpoint, root_and_classes, scalars, start,
                           tool_env, val_records, write_hook_config)

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.e2e]

CONFIG = 'tests/configs/tiny_dist_single_branch.py'
# 16 training images, 2 tasks x batch 4: 2 iterations per epoch
ITERS_PER_EPOCH = 2


def _slurm_env(**extra) -> dict:
    """2 CPU tasks of one CPU each, a free master port (other jobs may
    share the node)."""
    return dict(GPUS='2', GPUS_PER_NODE='0', CPUS_PER_TASK='1',
                MASTER_PORT=str(free_port()), **extra)


def _job_name() -> str:
    return f'fgvc-test-{uuid.uuid4().hex[:8]}'


def _options(synthetic_root, max_epochs: int) -> list:
    root, num_classes = root_and_classes(synthetic_root)
    return ['--cfg-options', *data_options(root, num_classes),
            f'train_cfg.max_epochs={max_epochs}']


def _processes_with(text: str) -> list:
    """PIDs of live (not zombie) processes whose command line contains
    ``text``."""
    found = []
    for path in glob.glob('/proc/[0-9]*/cmdline'):
        pid = path.split('/')[2]
        try:
            with open(path, 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ').decode(
                    errors='replace')
            with open(f'/proc/{pid}/stat') as f:
                zombie = f.read().split(')')[-1].split()[0] == 'Z'
        except OSError:
            continue
        if text in cmdline and not zombie and int(pid) != os.getpid():
            found.append(pid)
    return found


def _squeue(name: str) -> str:
    return subprocess.run(['squeue', '-h', '-n', name, '-o', '%i %T'],
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope='module')
def trained(slurm_partition, synthetic_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('slurm_train')
    work_dir = str(tmp / 'work')
    proc = start(['bash', 'tools/slurm_train.sh', slurm_partition,
                  _job_name(), CONFIG, work_dir,
                  *_options(synthetic_root, 1)],
                 str(tmp / 'train.log'), **_slurm_env())
    return work_dir, finish(proc, 300)


def test_two_tasks_train_one_work_dir(trained):
    work_dir, log = trained
    assert 'WorkDirBusyError' not in log
    assert '--gres' not in log  # CPU tasks: no GPU asked for
    # one run: one timestamped directory, one checkpoint, written once
    runs = sorted(d for d in glob.glob(osp.join(work_dir, '2*'))
                  if osp.isdir(d))
    assert len(runs) == 1, runs
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth'))) == ['epoch_1.pth']
    run_log = open(glob.glob(osp.join(runs[0], '*.log'))[0]).read()
    # mmengine's environment report: world size 2, launched by Slurm, gloo
    assert 'Distributed launcher: slurm' in run_log
    assert 'GPU number: 2' in run_log  # the world size (CPU tasks here)
    assert "dist_cfg: {'backend': 'gloo'}" in run_log
    ckpt = load_checkpoint(osp.join(work_dir, 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == ITERS_PER_EPOCH  # 2 ranks share epoch


def test_two_tasks_test_the_checkpoint(trained, slurm_partition,
                                       synthetic_root, tmp_path):
    work_dir, _ = trained
    root, num_classes = root_and_classes(synthetic_root)
    test = start(['bash', 'tools/slurm_test.sh', slurm_partition,
                  _job_name(), CONFIG, osp.join(work_dir, 'epoch_1.pth'),
                  '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                  *data_options(root, num_classes)],
                 str(tmp_path / 'test.log'), **_slurm_env())
    out = finish(test, 300)
    found = re.findall(r'accuracy/top1: ([0-9.]+)', out)
    assert found, out[-3000:]
    # oracle: the training run's own validation of epoch 1 (the test set
    # is the validation set)
    (records, ) = scalars(work_dir)
    expected = val_records(records)[1]['accuracy/top1']
    assert float(found[-1]) == pytest.approx(expected, abs=1e-4)


def test_scancel_leaves_no_process_and_resume_continues(
        slurm_partition, synthetic_root, tmp_path):
    marker = str(tmp_path / 'paused')
    # pause in epoch 2, after epoch_1.pth is written
    config = write_hook_config(
        str(tmp_path / 'pause.py'), CONFIG,
        [dict(type='PauseAtIterHook', iteration=ITERS_PER_EPOCH + 1,
              marker=marker)])
    work_dir = str(tmp_path / 'work')
    name = _job_name()
    first = start(['bash', 'tools/slurm_train.sh', slurm_partition, name,
                   config, work_dir, *_options(synthetic_root, 2)],
                  str(tmp_path / 'first.log'), **_slurm_env())
    try:
        deadline = time.time() + 300
        while not osp.exists(marker):
            assert first.poll() is None, open(first.log_path).read()[-3000:]
            assert time.time() < deadline, 'the job never reached epoch 2'
            time.sleep(0.2)
        assert len(_processes_with(work_dir)) >= 2  # the 2 tasks (+ srun)
        subprocess.run(['scancel', '--name', name], check=True, timeout=60)
        first.wait(timeout=120)
        deadline = time.time() + 60
        while (_processes_with(work_dir) or _squeue(name)) and \
                time.time() < deadline:
            time.sleep(0.5)
        assert _processes_with(work_dir) == [], 'tasks left after scancel'
        assert _squeue(name) == ''
    finally:
        if first.poll() is None:
            first.kill()
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    resumed = start(['bash', 'tools/slurm_train.sh', slurm_partition,
                     _job_name(), CONFIG, work_dir,
                     *_options(synthetic_root, 2), '--resume'],
                    str(tmp_path / 'resumed.log'), **_slurm_env())
    log = finish(resumed, 300)
    assert f'Load checkpoint from {osp.join(work_dir, "epoch_1.pth")}' \
        in log, log[-3000:]
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in log
    ckpt = load_checkpoint(osp.join(work_dir, 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 2 * ITERS_PER_EPOCH


STALL_SCRIPT = '''
import os, time
import torch.distributed as dist
from mmengine.config import Config
from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
cfg = Config(dict(launcher='slurm', env_cfg=dict(
    dist_cfg=dict(backend='gloo', timeout=3))))
prepare_runtime(cfg, training=False)
print('rank', dist.get_rank(), 'of', dist.get_world_size(), 'pid',
      os.getpid(), flush=True)
if dist.get_rank() == 1:
    time.sleep(600)  # stalled: never reaches the barrier
dist.barrier()
'''


def test_stalled_task_ends_the_job_within_the_timeout(
        slurm_partition, tmp_path):
    script = tmp_path / 'stall.py'
    script.write_text(STALL_SCRIPT)
    name = _job_name()
    log = open(tmp_path / 'stall.log', 'w')
    began = time.time()
    # srun as tools/slurm_train.sh calls it
    proc = subprocess.Popen(
        ['srun', '-p', slurm_partition, f'--job-name={name}', '--ntasks=2',
         '--cpus-per-task=1', '--kill-on-bad-exit=1', sys.executable, '-u',
         str(script)], cwd=ROOT, env=tool_env(MASTER_PORT=free_port()),
        stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        # bound: start-up (imports on a shared CPU) + 3 s timeout + margin
        proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        subprocess.run(['scancel', '--name', name])
        proc.kill()
        pytest.fail('a stalled task hung the Slurm job past the configured '
                    'dist_cfg timeout')
    out = (tmp_path / 'stall.log').read_text()
    assert proc.returncode != 0, out[-3000:]
    assert 'rank 1 of 2' in out and 'rank 0 of 2' in out, out[-3000:]
    assert 'timeout' in out.lower() or 'timed out' in out.lower(), \
        out[-3000:]
    deadline = time.time() + 30
    while _processes_with(str(script)) and time.time() < deadline:
        time.sleep(0.5)
    assert _processes_with(str(script)) == []
    assert time.time() - began < 150

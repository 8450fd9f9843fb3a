"""The srun calls of tools/slurm_train.sh and tools/slurm_test.sh (issue
23), read from a stand-in ``srun`` that records its arguments: MMPretrain's
GPU call unchanged, and with ``GPUS_PER_NODE=0`` CPU tasks without
``--gres`` (which a partition without GRES rejects). The real runs on a
Slurm cluster are in test_slurm_tools.py."""
import os
import subprocess

import pytest

from tests.helpers import ROOT

FAKE_SRUN = '''#!/bin/sh
printf '%s\\n' "$@" > "$SRUN_ARGS_OUT"
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS" >> "$SRUN_ARGS_OUT"
'''


def _srun_args(tmp_path, script: str, env: dict) -> list:
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    out = tmp_path / 'args'
    full = {k: v for k, v in os.environ.items()
            if k not in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK',
                         'SRUN_ARGS', 'OMP_NUM_THREADS')}
    full.update(env, PATH=f'{bin_dir}:{os.environ["PATH"]}',
                SRUN_ARGS_OUT=str(out), PYTHON='python3')
    subprocess.run(['bash', f'tools/{script}', 'part', 'job', 'cfg.py',
                    'ARG4', '--cfg-options', 'a=1'], cwd=ROOT, env=full,
                   check=True, capture_output=True, timeout=60)
    return out.read_text().splitlines()


@pytest.mark.parametrize('script,tool', [('slurm_train.sh', 'train.py'),
                                         ('slurm_test.sh', 'test.py')])
def test_gpu_call_is_mmpretrains(tmp_path, script, tool):
    args = _srun_args(tmp_path, script, {})
    assert args[:3] == ['-p', 'part', '--job-name=job']
    for expected in ('--gres=gpu:8', '--ntasks-per-node=8', '--ntasks=8',
                     '--cpus-per-task=5', '--kill-on-bad-exit=1',
                     '--launcher=slurm', '--cfg-options', 'a=1'):
        assert expected in args, (expected, args)
    assert args[args.index('-u') + 1].endswith(f'tools/{tool}')
    assert ('--work-dir=ARG4' in args) == (tool == 'train.py')


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_cpu_tasks_ask_for_no_gpu(tmp_path, script):
    args = _srun_args(tmp_path, script, dict(
        GPUS='2', GPUS_PER_NODE='0', CPUS_PER_TASK='1',
        SRUN_ARGS='--time=5'))
    assert not any(a.startswith(('--gres', '--ntasks-per-node'))
                   for a in args), args
    for expected in ('--ntasks=2', '--cpus-per-task=1', '--time=5',
                     '--launcher=slurm', 'OMP_NUM_THREADS=1'):
        assert expected in args, (expected, args)

"""Rank-aware start under every launcher (issue 23): only the main rank,
read from the launcher's own variable before any process group exists,
locks and writes the work dir; without CUDA, Slurm and MPI ranks train on
gloo as torchrun's do."""
import os

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from projects.fgvc_aam_hardening import runtime_setup
from projects.fgvc_aam_hardening.runtime_fixes import (setup_cpu_distributed,
                                                       slurm_job_port,
                                                       teardown_distributed)
from projects.fgvc_aam_hardening.runtime_setup import (
    main_rank_from_launcher_env, prepare_runtime)
from projects.fgvc_aam_hardening.work_dir_lock import (LOCK_FILE,
                                                       release_work_dir_locks)
from tests.helpers import free_port

# every variable a launcher (or mmengine's init_dist) sets for a rank
RANK_VARIABLES = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'SLURM_PROCID',
                  'SLURM_NTASKS', 'SLURM_LOCALID', 'SLURM_NODELIST',
                  'SLURM_JOB_ID', 'OMPI_COMM_WORLD_RANK',
                  'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK',
                  'MASTER_ADDR', 'MASTER_PORT')


@pytest.fixture
def clean_env(monkeypatch):
    """No launcher variable of this process leaks in; all are restored."""
    for name in RANK_VARIABLES:
        monkeypatch.setenv(name, 'placeholder')  # restored afterwards
        monkeypatch.delenv(name)
    return monkeypatch


def _train_in(work_dir, launcher: str) -> None:
    """prepare_runtime of a training run, without the process group (the
    lock is decided before it)."""
    cfg = Config(dict(work_dir=str(work_dir), launcher=launcher))
    try:
        prepare_runtime(cfg)
    finally:
        release_work_dir_locks()


# launcher, its variables for a process of rank 1 (RANK, set by a previous
# torchrun in the shell, must not count under Slurm or MPI)
SECOND_RANKS = {
    'slurm': dict(SLURM_PROCID='1', SLURM_NTASKS='2', RANK='0'),
    'pytorch': dict(RANK='1', WORLD_SIZE='2'),
    'mpi': dict(OMPI_COMM_WORLD_RANK='1', OMPI_COMM_WORLD_SIZE='2',
                RANK='0'),
}
MAIN_RANKS = {
    'slurm': dict(SLURM_PROCID='0', SLURM_NTASKS='2', RANK='1'),
    'pytorch': dict(RANK='0', WORLD_SIZE='2'),
    'mpi': dict(OMPI_COMM_WORLD_RANK='0', OMPI_COMM_WORLD_SIZE='2',
                RANK='1'),
    'none': {},
}


@pytest.mark.parametrize('launcher', sorted(SECOND_RANKS))
def test_second_rank_neither_locks_nor_writes_the_work_dir(
        launcher, tmp_path, clean_env):
    """On main, a Slurm (or MPI) task of rank 1 has no RANK yet, counts as
    rank 0 and takes the lock: every task but one is refused with
    WorkDirBusyError."""
    for name, value in SECOND_RANKS[launcher].items():
        clean_env.setenv(name, value)
    clean_env.setattr(runtime_setup, 'setup_cpu_distributed',
                      lambda cfg: False)
    work_dir = tmp_path / 'w'
    assert main_rank_from_launcher_env(launcher) is False
    _train_in(work_dir, launcher)
    assert not work_dir.exists()  # nothing written, no lock taken


@pytest.mark.parametrize('launcher', sorted(MAIN_RANKS))
def test_main_rank_locks_the_work_dir(launcher, tmp_path, clean_env):
    for name, value in MAIN_RANKS[launcher].items():
        clean_env.setenv(name, value)
    clean_env.setattr(runtime_setup, 'setup_cpu_distributed',
                      lambda cfg: False)
    assert main_rank_from_launcher_env(launcher) is True
    cfg = Config(dict(work_dir=str(tmp_path), launcher=launcher))
    try:
        prepare_runtime(cfg)
        lock = tmp_path / LOCK_FILE
        assert lock.read_text().strip() == str(os.getpid())
    finally:
        release_work_dir_locks()


@pytest.mark.parametrize('launcher,variable', [
    ('slurm', 'SLURM_PROCID'), ('pytorch', 'RANK'),
    ('mpi', 'OMPI_COMM_WORLD_RANK')])
def test_launcher_without_its_rank_variable_is_refused(
        launcher, variable, tmp_path, clean_env):
    """e.g. ``--launcher slurm`` run outside ``srun``: refused, naming the
    variable, before anything is written."""
    with pytest.raises(ValueError, match=variable):
        _train_in(tmp_path / 'w', launcher)
    clean_env.setenv(variable, 'abc')
    with pytest.raises(ValueError, match="'abc'"):
        _train_in(tmp_path / 'w', launcher)
    assert not (tmp_path / 'w').exists()


def test_unknown_launcher_is_refused():
    with pytest.raises(ValueError, match="'lsf'"):
        main_rank_from_launcher_env('lsf')


def test_slurm_job_port(clean_env):
    assert slurm_job_port() == 29500  # outside a job: mmengine's default
    clean_env.setenv('SLURM_JOB_ID', '1234')
    assert slurm_job_port() == 29500 + 234


# launcher, the variables of a one-process job of it
ONE_PROCESS = {
    'slurm': dict(SLURM_PROCID='0', SLURM_NTASKS='1', SLURM_LOCALID='0',
                  SLURM_NODELIST='localhost', SLURM_JOB_ID='7'),
    'mpi': dict(OMPI_COMM_WORLD_RANK='0', OMPI_COMM_WORLD_SIZE='1',
                OMPI_COMM_WORLD_LOCAL_RANK='0'),
}


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU path only')
@pytest.mark.parametrize('launcher', sorted(ONE_PROCESS))
def test_cpu_slurm_and_mpi_initialise_gloo(launcher, clean_env):
    """On main mmengine's Slurm/MPI initialisation fails at
    ``torch.cuda.set_device`` ("Found no NVIDIA driver"); here it sets up
    RANK / WORLD_SIZE / LOCAL_RANK from the launcher's variables and a
    gloo group, and DDP gets ``device_ids=None``."""
    # RANK (left by another launcher in the shell) is not the rank here
    clean_env.setenv('RANK', '5')
    for name, value in ONE_PROCESS[launcher].items():
        clean_env.setenv(name, value)
    clean_env.setenv('MASTER_ADDR', '127.0.0.1')
    clean_env.setenv('MASTER_PORT', str(free_port()))
    cfg = Config(dict(launcher=launcher, env_cfg=dict(
        dist_cfg=dict(backend='nccl', timeout=30))))
    try:
        assert setup_cpu_distributed(cfg) is True
        assert dist.get_backend() == 'gloo'
        assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
        # mmengine exports these from the launcher's variables
        assert (os.environ['RANK'], os.environ['WORLD_SIZE']) == ('0', '1')
    finally:
        teardown_distributed()
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'

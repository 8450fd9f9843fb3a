"""The config fixes tools/train.py and tools/test.py apply."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from projects.fgvc_aam_hardening.runtime_fixes import (setup_cpu_distributed,
                                                       teardown_distributed)
from projects.fgvc_aam_hardening.runtime_setup import (load_mmpretrain_tool,
                                                       prepare_runtime)
from tests.helpers import ROOT, free_port, link_into_new_work_dir


def test_persistent_workers_off_only_without_workers():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=0, persistent_workers=True),
            val_dataloader=dict(num_workers=2, persistent_workers=True),
            test_dataloader=None,
            launcher='none'))
    prepare_runtime(cfg)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True


def test_upstream_train_tool_forces_persistent_workers():
    """Why the fix exists: MMPretrain's merge_args sets it unconditionally."""
    upstream = load_mmpretrain_tool('train')
    args = type('Args', (), dict(
        no_validate=False, launcher='none', work_dir='w', amp=False,
        resume=None, auto_scale_lr=False, no_pin_memory=False,
        no_persistent_workers=False, cfg_options=None))()
    cfg = Config(dict(train_dataloader=dict(num_workers=0)))
    cfg = upstream.merge_args(cfg, args)
    assert cfg.train_dataloader.persistent_workers is True
    with pytest.raises(ValueError, match='persistent_workers'):
        torch.utils.data.DataLoader([0], num_workers=0,
                                    persistent_workers=True)


def test_no_launcher_is_left_alone():
    cfg = Config(dict(launcher='none'))
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU path only')
def test_cpu_launcher_initialises_gloo_and_drops_device_ids(monkeypatch):
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    cfg = Config(dict(launcher='pytorch',
                      env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        assert setup_cpu_distributed(cfg) is True
        assert dist.is_initialized()
        assert dist.get_backend() == 'gloo'
        assert teardown_distributed() is True
        assert not dist.is_initialized()
        assert teardown_distributed() is False  # nothing left to destroy
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert os.environ['RANK'] == '0'


def test_fresh_run_refuses_to_overwrite_checkpoints(tmp_path):
    from projects.fgvc_aam_hardening.work_dir_lock import \
        release_work_dir_locks
    torch.save({'state_dict': {}}, str(tmp_path / 'epoch_1.pth'))
    weights = (tmp_path / 'epoch_1.pth').read_bytes()
    cfg = Config(dict(work_dir=str(tmp_path), resume=False, launcher='none'))
    with pytest.raises(FileExistsError, match='epoch_1.pth'):
        prepare_runtime(cfg)
    assert (tmp_path / 'epoch_1.pth').read_bytes() == weights
    cfg.resume = True  # continuing the run is what the user wants
    prepare_runtime(cfg)
    release_work_dir_locks()
    assert cfg.load_from == str(tmp_path / 'epoch_1.pth')
    prepare_runtime(Config(dict(work_dir=str(tmp_path), launcher='none')),
                    training=False)  # testing writes no checkpoint


@pytest.mark.parametrize('kind', ['symlink', 'hardlink'])
def test_link_at_the_config_dump_is_refused_and_its_target_kept(tmp_path,
                                                                kind):
    """Issue 22: mmengine dumps the config to ``WORK_DIR/<config name>``
    with a plain ``open``; a link planted there had its target overwritten
    by the dump. Oracle: the target's bytes on disk."""
    from projects.fgvc_aam.utils.no_follow import LinkRefusedError
    from projects.fgvc_aam_hardening.work_dir_lock import \
        release_work_dir_locks
    config = tmp_path / 'my_config.py'
    config.write_text('model = dict(type="x")\n')
    victim, work = link_into_new_work_dir(tmp_path, kind, 'my_config.py')
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(dict(work_dir=str(work), launcher='none'))
    try:
        with pytest.raises(LinkRefusedError, match='my_config.py'):
            prepare_runtime(cfg)
    finally:
        release_work_dir_locks()
    assert victim.read_text() == 'precious'


def test_exit_skipping_finalizers_flushes_logs_and_streams(tmp_path):
    """What is logged or printed before the early exit reaches its file and
    pipe, the exit code is the one asked for, and nothing after it runs."""
    log = tmp_path / 'run.log'
    script = f'''
import logging, sys
from projects.fgvc_aam_hardening.runtime_fixes import exit_skipping_finalizers
logger = logging.getLogger('t')
logger.addHandler(logging.FileHandler({str(log)!r}))
logger.warning('logged before exit')
print('printed before exit', end='')  # no newline: only a flush writes it
exit_skipping_finalizers(3)
print('never')
'''
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3
    assert proc.stdout == 'printed before exit'
    assert log.read_text() == 'logged before exit\n'


def test_finish_data_parallel_run_leaves_single_process_runs_alone():
    """Without a process group the tools go on (no exit, visualizer open)."""
    from projects.fgvc_aam_hardening.runtime_fixes import \
        finish_data_parallel_run

    class Visualizer:
        closed = False

        def close(self):
            self.closed = True

    class Runner:
        visualizer = Visualizer()

    assert not dist.is_initialized()
    finish_data_parallel_run(Runner)
    assert Runner.visualizer.closed is False


def test_fit_check_comes_from_default_hooks_or_is_added():
    """``default_runtime.py`` names the fit check in ``default_hooks``;
    ``allow_partial_checkpoint`` sets it there unless the config does; a
    config without one (or with it switched off) gets one added."""
    from projects.fgvc_aam_hardening.runtime_setup import \
        add_checkpoint_fit_hook
    runtime = osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')
    cfg = Config.fromfile(runtime)
    assert cfg.default_hooks.checkpoint_fit == dict(type='CheckpointFitHook')
    cfg.allow_partial_checkpoint = True
    add_checkpoint_fit_hook(cfg)
    assert cfg.default_hooks.checkpoint_fit.allow_partial is True
    assert not cfg.get('custom_hooks')  # not added twice
    cfg = Config.fromfile(runtime)
    cfg.default_hooks.checkpoint_fit.allow_partial = False
    cfg.allow_partial_checkpoint = True
    add_checkpoint_fit_hook(cfg)  # the config's own setting wins
    assert cfg.default_hooks.checkpoint_fit.allow_partial is False
    for off in (dict(default_hooks=dict(checkpoint_fit=None)), dict()):
        cfg = Config(dict(off, custom_hooks=[dict(type='EpochSeedHook')]))
        add_checkpoint_fit_hook(cfg)
        assert cfg.custom_hooks == [
            dict(type='EpochSeedHook'),
            dict(type='CheckpointFitHook', allow_partial=False)
        ]

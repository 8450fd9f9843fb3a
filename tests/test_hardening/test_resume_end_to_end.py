"""Interrupted training loses nothing; training never writes to the data or
over existing checkpoints (issue 7), end to end with ``tools/train.py``.

One module fixture makes the runs, as real subprocesses on a private copy
of the tiny synthetic data set (``tests/configs/tiny_aam_synthetic.py``:
AAM head with the step margin schedule, two param groups with their own lr
milestones, random crop + flip, ``randomness=dict(seed=0,
deterministic=True)``, one thread, ``num_workers=0``, 3 epochs of 8
iterations):

- ``full``: an uninterrupted run;
- ``part``: the same run killed with SIGKILL while it is parked after
  iteration 11 (epoch 2, batch 3; ``epoch_1.pth`` exists, ``epoch_2.pth``
  does not), then resumed with ``--resume``;
- ``control``: a copy of the killed work dir resumed WITHOUT
  ``EpochSeedHook``: it must differ, which shows that the augmentation is
  random and that the equality above is not vacuous.

mmengine does not save the RNG states, so after ``--resume`` random crops
and flips draw other numbers than in the uninterrupted run; the
``EpochSeedHook`` of the config reseeds python / numpy / torch from
``(seed, epoch)`` before every epoch, which makes the replay exact.
"""
import os
import os.path as osp
import re
import shutil
import signal
import time

import pytest
import torch
from mmengine.config import Config

from tests.helpers import (ROOT, assert_state_dicts_equal, data_options,
                           finish, load_checkpoint, root_and_classes, scalars,
                           snapshot, start, train_cmd, train_records,
                           val_records, write_hook_config)

# one module fixture of about 65 s (2 cores)
pytestmark = [pytest.mark.slow, pytest.mark.reliability, pytest.mark.e2e]

CONFIG = 'tests/configs/tiny_aam_synthetic.py'
KILL_AT_ITER = 11  # epoch 2, batch 3 of 8
ITERS_PER_EPOCH = 8
MAX_EPOCHS = 3


def _variant_config(tmp, name: str, hooks: list, imports: list,
                    extra: str = '') -> str:
    """A config file that inherits CONFIG and replaces its custom hooks."""
    return write_hook_config(osp.join(str(tmp), f'{name}.py'), CONFIG, hooks,
                             imports, extra)


def _without_epoch_seed(cfg: Config) -> dict:
    """The config's default hooks less EpochSeedHook (mmengine accepts
    ``None`` only for its own default hook names)."""
    return {k: v.to_dict() for k, v in cfg.default_hooks.items()
            if k != 'epoch_seed'}


def _point_last_checkpoint_at(work_dir: str, name: str) -> None:
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, name))


@pytest.fixture(scope='module')
def runs(synthetic_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('resume')
    root, num_classes = root_and_classes(synthetic_root)
    data = str(tmp / 'data')
    shutil.copytree(root, data)
    data_before = snapshot(data)
    opts = ['--cfg-options', *data_options(data, num_classes)]
    dirs = {k: str(tmp / k) for k in ('full', 'part', 'control')}

    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    hooks = [dict(h) for h in cfg.custom_hooks]
    assert cfg.default_hooks.epoch_seed.type == 'EpochSeedHook'
    marker = str(tmp / 'paused')
    pause_cfg = _variant_config(
        tmp, 'pause', hooks + [
            dict(type='PauseAtIterHook', iteration=KILL_AT_ITER,
                 marker=marker)
        ], ['projects.fgvc_aam', 'tests.helpers'])
    no_seed_cfg = _variant_config(tmp, 'no_seed', hooks,
                                  ['projects.fgvc_aam'],
                                  'default_hooks = dict(_delete_=True, **'
                                  f'{_without_epoch_seed(cfg)!r})\n')

    # the uninterrupted and the to-be-killed run side by side (1 thread each)
    full = start(train_cmd(CONFIG, dirs['full'], *opts), str(tmp / 'full.log'))
    part = start(train_cmd(pause_cfg, dirs['part'], *opts),
                 str(tmp / 'part.log'))
    deadline = time.time() + 500
    while not osp.exists(marker):
        if part.poll() is not None or time.time() > deadline:
            part.kill()
            finish(part)  # raises with its log
            raise AssertionError('the run to interrupt ended early')
        time.sleep(0.1)
    ckpts_at_kill = sorted(os.listdir(dirs['part']))
    os.kill(part.pid, signal.SIGKILL)  # a real signal, no clean-up
    part.wait()
    killed_rc = part.returncode
    with open(marker) as f:
        paused_at = f.read().split()

    # resume the killed run (and, as a control, a copy of it without the
    # EpochSeedHook) side by side
    shutil.copytree(dirs['part'], dirs['control'])
    _point_last_checkpoint_at(dirs['control'], 'epoch_1.pth')
    resumed = start(train_cmd(CONFIG, dirs['part'], '--resume', *opts),
                    str(tmp / 'resumed.log'))
    control = start(
        train_cmd(no_seed_cfg, dirs['control'], '--resume', *opts),
        str(tmp / 'control.log'))
    logs = dict(full=finish(full), resumed=finish(resumed),
                control=finish(control))
    return dict(dirs=dirs, data=data, data_before=data_before,
                data_after=snapshot(data), logs=logs, killed_rc=killed_rc,
                paused_at=paused_at, ckpts_at_kill=ckpts_at_kill,
                num_classes=num_classes, opts=opts)


def test_run_was_killed_mid_epoch_after_first_checkpoint(runs):
    assert runs['killed_rc'] == -signal.SIGKILL
    assert runs['paused_at'] == ['2', '3']  # epoch 2, batch 3
    assert 'epoch_1.pth' in runs['ckpts_at_kill']
    assert 'epoch_2.pth' not in runs['ckpts_at_kill']
    assert re.search(r'resumed epoch: 1, iter: 8', runs['logs']['resumed'])


def test_resumed_weights_equal_uninterrupted_run(runs):
    full, part = runs['dirs']['full'], runs['dirs']['part']
    for epoch in (2, MAX_EPOCHS):
        a = load_checkpoint(osp.join(full, f'epoch_{epoch}.pth'))
        b = load_checkpoint(osp.join(part, f'epoch_{epoch}.pth'))
        # every parameter and buffer (BN statistics, the margin buffer)
        assert_state_dicts_equal(a['state_dict'], b['state_dict'],
                                 f'epoch {epoch} state_dict')
        # optimizer: momentum buffers and param-group settings
        sa, sb = a['optimizer']['state'], b['optimizer']['state']
        assert sa.keys() == sb.keys()
        for key in sa:
            assert_state_dicts_equal(sa[key], sb[key], f'momentum {key}')
        assert a['optimizer']['param_groups'] == b['optimizer'][
            'param_groups']
        assert a['param_schedulers'] == b['param_schedulers']
        assert a['meta']['epoch'] == b['meta']['epoch'] == epoch
        assert a['meta']['iter'] == b['meta']['iter'] == \
            epoch * ITERS_PER_EPOCH


def test_margin_and_group_lrs_match_schedule_after_resume(runs):
    """The margin buffer and each group's lr equal eqs. 52 / the per-group
    milestones (independent oracle) in both runs."""
    # step schedule k1=1, k2=2: epoch 2 -> m1 = 0.25, epoch 3 -> m2 = 0.5
    # lr: backbone 0.01 decayed after epoch 2, head 0.1 after epoch 1
    expected = {2: (0.25, dict(backbone=0.001, head=0.01)),
                3: (0.5, dict(backbone=0.001, head=0.01))}
    for run in ('full', 'part'):
        for epoch, (margin, lrs) in expected.items():
            ckpt = load_checkpoint(
                osp.join(runs['dirs'][run], f'epoch_{epoch}.pth'))
            margins = ckpt['state_dict']['head.margins']
            assert torch.equal(margins,
                               torch.full((runs['num_classes'], ), margin))
            groups = {g['name']: g['lr']
                      for g in ckpt['optimizer']['param_groups']}
            assert groups == pytest.approx(lrs, rel=1e-12), (run, epoch)


def test_resumed_logs_equal_uninterrupted_run(runs):
    """Per-iteration loss, lr and margin of epochs 2-3, and each epoch's
    validation accuracy, as logged by the two runs."""
    full = scalars(runs['dirs']['full'])
    assert len(full) == 1
    killed, resumed = scalars(runs['dirs']['part'])
    full_train, full_val = train_records(full[0]), val_records(full[0])
    res_train, res_val = train_records(resumed), val_records(resumed)
    assert sorted(res_train) == list(
        range(ITERS_PER_EPOCH + 1, MAX_EPOCHS * ITERS_PER_EPOCH + 1))
    for step, rec in res_train.items():
        for key in ('loss', 'lr', 'margin'):
            assert rec[key] == full_train[step][key], (step, key)
    # the killed run logged the same first 11 iterations
    for step, rec in train_records(killed).items():
        assert rec['loss'] == full_train[step]['loss'], step
    assert max(train_records(killed)) == KILL_AT_ITER
    assert sorted(res_val) == [2, 3]
    for epoch in (2, 3):
        assert res_val[epoch]['accuracy/top1'] == \
            full_val[epoch]['accuracy/top1']
    assert val_records(killed)[1]['accuracy/top1'] == \
        full_val[1]['accuracy/top1']


def test_control_without_epoch_seed_hook_diverges(runs):
    """Resumed without EpochSeedHook the augmentation draws other numbers
    and the weights differ: the equality above depends on the hook."""
    a = load_checkpoint(osp.join(runs['dirs']['full'], 'epoch_3.pth'))
    c = load_checkpoint(osp.join(runs['dirs']['control'], 'epoch_3.pth'))
    differs = [k for k in a['state_dict']
               if not torch.equal(a['state_dict'][k], c['state_dict'][k])]
    assert 'head.norm_product.weight' in differs
    assert 'backbone.conv1.weight' in differs


def test_training_never_writes_to_the_data_root(runs):
    """Three training runs (one killed, two resumed) later, every file of
    the data root is byte-identical, untouched (mtime) and no file was
    added or removed."""
    assert runs['data_after'] == runs['data_before']
    assert any(k.endswith('.jpg') for k in runs['data_before'])


def test_fresh_run_refuses_work_dir_with_checkpoints(runs, tmp_path):
    """tools/train.py without --resume in a work dir that holds
    checkpoints exits with an error and leaves everything there as it was."""
    work_dir = str(tmp_path / 'existing')
    shutil.copytree(runs['dirs']['full'], work_dir)
    before = snapshot(work_dir)
    proc = start(train_cmd(CONFIG, work_dir, *runs['opts']),
                 str(tmp_path / 'refused.log'))
    with pytest.raises(AssertionError, match='exited 1') as info:
        finish(proc, timeout=300)
    message = str(info.value)
    assert 'FileExistsError' in message
    assert 'already holds checkpoints' in message
    assert 'epoch_1.pth' in message and '--resume' in message
    assert snapshot(work_dir) == before

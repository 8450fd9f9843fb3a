"""Checkpoints are atomic and old ones go only after the new one is on disk
(issue 13, case 2).

In-process: the hook of ``configs/_base_/default_runtime.py`` driven by a
small runner stand-in whose ``save_checkpoint`` writes real files through
mmengine's ``save_checkpoint`` and records which files existed when each
write began (the oracle of "prune after save"), and can fail half-way like a
full disk. End to end: a real ``tools/train.py`` killed with SIGKILL in the
middle of writing ``epoch_2.pth`` (``max_keep_ckpts=1``), its work dir moved
elsewhere, then ``--resume``.
"""
import errno
import os
import os.path as osp
import shutil
import signal
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import save_checkpoint
from mmpretrain.registry import HOOKS

import projects.fgvc_aam  # noqa: F401  (registers the hooks)
from tests.helpers import (ROOT, data_options, finish, load_checkpoint,
                           root_and_classes, start, train_cmd,
                           write_hook_config)

RUNTIME = Config.fromfile(
    osp.join(ROOT, 'configs', '_base_', 'default_runtime.py'))
HOOK_TYPE = RUNTIME.default_hooks.checkpoint.type


class FakeRunner:
    """What CheckpointHook uses of a runner; ``save_checkpoint`` writes a
    real checkpoint, recording the folder's files when the write began."""

    def __init__(self, work_dir: str) -> None:
        name = uuid.uuid4().hex
        self.work_dir = work_dir
        self.logger = MMLogger.get_instance(f'atomic_{name}')
        self.message_hub = MessageHub.get_instance(f'atomic_{name}')
        self.epoch = 0
        self.iter = 0
        self.seen_at_write = {}  # file name -> files present at 1st write
        self.fail_on = None  # a file name whose write fails half-way
        self.before_write = None  # called with each path about to be written

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        final = filename.split('.tmp')[0]
        self.seen_at_write.setdefault(final, sorted(os.listdir(out_dir)))
        path = osp.join(out_dir, filename)
        if final == self.fail_on:
            with open(path, 'wb') as f:
                f.write(b'PK\x03\x04 half a checkpoint')
            raise OSError(errno.ENOSPC, 'No space left on device', path)
        if self.before_write is not None:
            self.before_write(path)
        save_checkpoint({'meta': dict(meta or {}),
                         'state_dict': {'w': torch.full((3, ), self.epoch)}},
                        path, backend_args=backend_args)


def _epoch(hook, runner, epoch: int, acc: float = None) -> None:
    runner.epoch, runner.iter = epoch - 1, epoch * 4
    hook.after_train_epoch(runner)  # saves epoch_{epoch}.pth
    if acc is not None:
        runner.epoch = epoch  # as after the train loop's epoch increment
        hook.after_val_epoch(runner, {'accuracy/top1': acc})


def _last(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def test_prune_only_after_the_new_checkpoint_is_on_disk(tmp_path):
    runner = FakeRunner(str(tmp_path))
    hook = HOOKS.build(dict(type=HOOK_TYPE, interval=1, max_keep_ckpts=1,
                            save_best='auto'))
    hook.before_train(runner)
    _epoch(hook, runner, 1, acc=10.)
    _epoch(hook, runner, 2, acc=20.)
    # when epoch_2.pth / the new best were written, the old ones still
    # existed (mmengine deletes them first)
    assert 'epoch_1.pth' in runner.seen_at_write['epoch_2.pth']
    assert 'best_accuracy_top1_epoch_1.pth' in runner.seen_at_write[
        'best_accuracy_top1_epoch_2.pth']
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == [
        'best_accuracy_top1_epoch_2.pth', 'epoch_2.pth']
    assert _last(str(tmp_path)) == osp.join(str(tmp_path), 'epoch_2.pth')
    assert load_checkpoint(osp.join(str(tmp_path), 'epoch_2.pth'))['meta'][
        'epoch'] == 2


def test_failed_save_keeps_previous_checkpoints_and_record(tmp_path):
    """A save that fails half-way (full disk) leaves no file under the
    checkpoint's name, deletes nothing, and last_checkpoint still names the
    previous, loadable checkpoint."""
    runner = FakeRunner(str(tmp_path))
    hook = HOOKS.build(dict(type=HOOK_TYPE, interval=1, max_keep_ckpts=1,
                            save_best='auto'))
    hook.before_train(runner)
    _epoch(hook, runner, 1, acc=10.)
    runner.fail_on = 'epoch_2.pth'
    with pytest.raises(OSError, match='No space left'):
        _epoch(hook, runner, 2)
    files = sorted(os.listdir(tmp_path))
    assert 'epoch_2.pth' not in files and 'epoch_1.pth' in files
    assert not [f for f in files if 'tmp' in f], files
    assert _last(str(tmp_path)) == osp.join(str(tmp_path), 'epoch_1.pth')
    assert load_checkpoint(osp.join(str(tmp_path), 'epoch_1.pth'))['meta'][
        'epoch'] == 1
    # the best checkpoint's save failing keeps the previous best
    runner.fail_on = 'best_accuracy_top1_epoch_2.pth'
    with pytest.raises(OSError):
        runner.epoch = 2
        hook.after_val_epoch(runner, {'accuracy/top1': 50.})
    assert 'best_accuracy_top1_epoch_1.pth' in os.listdir(tmp_path)


def _victim(tmp_path) -> str:
    victim = tmp_path / 'users_file.txt'
    victim.write_text('precious')
    return str(victim)


@pytest.mark.parametrize('planted', ['symlink', 'file'])
def test_a_link_planted_at_the_temporary_name_is_not_written_through(
        tmp_path, planted):
    """Issue 22: the temporary file was opened with ``open(path, 'wb')``,
    which writes through a symlink planted at its name (or over a file
    someone put there). Oracle: the content on disk."""
    work = tmp_path / 'work'
    work.mkdir()
    victim = _victim(tmp_path)
    runner = FakeRunner(str(work))
    hook = HOOKS.build(dict(type=HOOK_TYPE, interval=1))
    hook.before_train(runner)
    if planted == 'symlink':
        runner.before_write = lambda path: os.symlink(victim, path)
    else:  # a user's zip, named like our temporary file
        def plant(path):
            with open(path, 'wb') as f:
                f.write(b'PK\x03\x04 user zip')
        runner.before_write = plant
    with pytest.raises(OSError) as err:
        _epoch(hook, runner, 1)
    tmp = str(work / 'epoch_1.pth.tmp-saving')
    if planted == 'symlink':
        assert f'{tmp} is a symbolic link' in str(err.value)
    else:
        assert isinstance(err.value, FileExistsError)
        with open(tmp, 'rb') as f:  # neither overwritten nor removed
            assert f.read() == b'PK\x03\x04 user zip'
    with open(victim) as f:
        assert f.read() == 'precious'
    assert 'epoch_1.pth' not in os.listdir(work)


def test_a_link_at_last_checkpoint_is_refused_before_the_save(tmp_path):
    """mmengine writes ``last_checkpoint`` with ``open(path, 'w')``."""
    work = tmp_path / 'work'
    work.mkdir()
    victim = _victim(tmp_path)
    os.symlink(victim, str(work / 'last_checkpoint'))
    runner = FakeRunner(str(work))
    hook = HOOKS.build(dict(type=HOOK_TYPE, interval=1))
    hook.before_train(runner)
    with pytest.raises(OSError, match='last_checkpoint is a symbolic link'):
        _epoch(hook, runner, 1)
    with open(victim) as f:
        assert f.read() == 'precious'


def test_start_up_clean_up_removes_only_our_leftovers(tmp_path):
    """Issue 22: every ``*.tmp-saving`` was deleted. Ours: a regular file
    with a checkpoint's name that is empty or a zip; a user's file of
    another name or content, and a link, stay."""
    work = tmp_path / 'work'
    work.mkdir()
    ours = {'epoch_3.pth.tmp-saving': b'PK\x03\x04 half',
            'best_accuracy_top1_epoch_2.pth.tmp-saving': b''}
    theirs = {'notes.tmp-saving': b'PK\x03\x04 user zip',
              'epoch_4.pth.tmp-saving': b'my draft'}
    for name, data in {**ours, **theirs}.items():
        (work / name).write_bytes(data)
    os.symlink(_victim(tmp_path), str(work / 'iter_5.pth.tmp-saving'))
    runner = FakeRunner(str(work))
    HOOKS.build(dict(type=HOOK_TYPE, interval=1)).before_train(runner)
    left = sorted(os.listdir(work))
    assert sorted([*theirs, 'iter_5.pth.tmp-saving']) == [
        f for f in left if f.endswith('.tmp-saving')]
    with open(tmp_path / 'users_file.txt') as f:
        assert f.read() == 'precious'


def test_unknown_argument_fails_at_build_naming_allowed_ones():
    """Upstream forwards unknown keys to runner.save_checkpoint: the typo
    only fails at the first save, after a whole epoch."""
    with pytest.raises(TypeError) as info:
        HOOKS.build(dict(type=HOOK_TYPE, interval=1, max_keep=1))
    assert 'max_keep=1' in str(info.value)
    assert 'max_keep_ckpts' in str(info.value)


@pytest.mark.slow
@pytest.mark.e2e
def test_kill_during_save_then_resume_from_moved_work_dir(
        synthetic_root, tmp_path):
    """SIGKILL while epoch_2.pth is half-written (max_keep_ckpts=1): epoch_1
    survives intact; after moving the work dir (last_checkpoint holds the
    old absolute path) --resume takes epoch_1.pth, says so, removes the
    unfinished file and finishes."""
    root, num_classes = root_and_classes(synthetic_root)
    opts = ['--cfg-options', *data_options(root, num_classes),
            'default_hooks.checkpoint.max_keep_ckpts=1',
            'default_hooks.checkpoint.save_best=None']
    config = write_hook_config(
        str(tmp_path / 'kill.py'), 'tests/configs/tiny_softmax_synthetic.py',
        [dict(type='KillDuringSaveHook', name='epoch_2.pth')])
    first = str(tmp_path / 'first')
    proc = start(train_cmd(config, first, *opts), str(tmp_path / 'kill.log'))
    proc.wait(timeout=300)
    assert proc.returncode == -signal.SIGKILL, open(proc.log_path).read()
    ckpts = sorted(f for f in os.listdir(first) if '.pth' in f)
    # upstream: ['epoch_2.pth'] (truncated), epoch_1.pth deleted
    assert 'epoch_1.pth' in ckpts and 'epoch_2.pth' not in ckpts, ckpts
    assert load_checkpoint(osp.join(first, 'epoch_1.pth'))['meta'][
        'epoch'] == 1
    assert _last(first) == osp.join(first, 'epoch_1.pth')

    moved = str(tmp_path / 'moved')
    shutil.move(first, moved)
    log = finish(start(
        train_cmd('tests/configs/tiny_softmax_synthetic.py', moved,
                  '--resume', *opts), str(tmp_path / 'resume.log')),
                 timeout=300)
    assert f'resuming from {osp.join(moved, "epoch_1.pth")}' in log
    assert 'resumed epoch: 1' in log
    assert 'unfinished checkpoint save' in log
    final = load_checkpoint(osp.join(moved, 'epoch_2.pth'))
    assert final['meta']['epoch'] == 2
    assert sorted(f for f in os.listdir(moved) if '.pth' in f) == [
        'epoch_2.pth']

"""One training run per work dir (issue 13, case 3).

A real ``tools/train.py`` parked mid-training holds the work dir; a second
``tools/train.py`` into the same work dir is refused, naming the work dir
and the first one's PID, and writes nothing; after the first is killed
with SIGKILL its lock is reclaimed, naming its PID.
"""
import os.path as osp
import signal
import time

import pytest

from tests.helpers import (data_options, finish, link_into_new_work_dir,
                           root_and_classes, snapshot, start, train_cmd,
                           write_hook_config)


def start_paused(tmp_path, work: str, iteration: int, opts: list):
    """A ``tools/train.py`` of the tiny config into ``work``, parked after
    training iteration ``iteration``; returns once it is parked."""
    marker = str(tmp_path / 'paused')
    config = write_hook_config(
        str(tmp_path / 'pause.py'), 'tests/configs/tiny_softmax_synthetic.py',
        [dict(type='PauseAtIterHook', iteration=iteration, marker=marker)])
    first = start(train_cmd(config, work, *opts), str(tmp_path / 'a.log'))
    deadline = time.time() + 300
    try:
        while not osp.exists(marker):
            assert first.poll() is None, open(first.log_path).read()[-3000:]
            assert time.time() < deadline, 'the first run never paused'
            time.sleep(0.1)
    except BaseException:
        first.kill()
        first.wait()
        raise
    return first


@pytest.mark.slow
@pytest.mark.e2e
def test_second_training_into_busy_work_dir_is_refused(synthetic_root,
                                                       tmp_path):
    opts = ['--cfg-options', *data_options(*root_and_classes(
        synthetic_root))]
    work = str(tmp_path / 'work')
    first = start_paused(tmp_path, work, 1, opts)
    try:
        before = snapshot(work)
        second = start(train_cmd('tests/configs/tiny_softmax_synthetic.py',
                                 work, *opts), str(tmp_path / 'b.log'))
        second.wait(timeout=300)
        with open(second.log_path) as f:
            log = f.read()
        assert second.returncode == 1, log[-3000:]
        assert 'WorkDirBusyError' in log
        assert f'PID {first.pid}' in log and repr(work) in log
        assert snapshot(work) == before  # the refused run wrote nothing
    finally:
        first.send_signal(signal.SIGKILL)  # a real kill: no clean-up
        first.wait()
    # the dead run's lock is reclaimed, naming it
    from projects.fgvc_aam_hardening.work_dir_lock import (
        lock_work_dir, release_work_dir_locks)
    messages = []
    try:
        lock_work_dir(work, log=messages.append)
    finally:
        release_work_dir_locks()
    assert f'stale lock {osp.join(work, "train.lock")} of PID {first.pid}' \
        in ' '.join(messages)


@pytest.mark.parametrize('kind', ['symlink', 'hardlink'])
def test_a_link_at_the_lock_is_refused_and_its_target_kept(tmp_path, kind):
    """Issue 22: a symlink at ``train.lock`` had its target truncated to 0
    bytes. Oracle: the target's content on disk."""
    from projects.fgvc_aam.utils.no_follow import LinkRefusedError
    from projects.fgvc_aam_hardening.work_dir_lock import (
        lock_work_dir, release_work_dir_locks)
    victim, work = link_into_new_work_dir(tmp_path, kind, 'train.lock')
    try:
        with pytest.raises(LinkRefusedError) as err:
            lock_work_dir(str(work))
    finally:
        release_work_dir_locks()
    assert str(work / 'train.lock') in str(err.value)
    assert victim.read_text() == 'precious'


def _children(pid: int) -> list:
    with open(f'/proc/{pid}/task/{pid}/children') as f:
        return [int(p) for p in f.read().split()]


@pytest.mark.slow
@pytest.mark.e2e
def test_resume_right_after_sigkill_with_dataloader_workers(synthetic_root,
                                                            tmp_path):
    """Issue 22: the dead run's orphaned dataloader workers inherited its
    ``flock`` and ``--resume`` was refused as busy for about 5 s. The lock
    is now a record lock, which forked children do not hold."""
    opts = ['--cfg-options', *data_options(*root_and_classes(
        synthetic_root)), 'train_dataloader.num_workers=2',
            'train_dataloader.persistent_workers=True']
    work = str(tmp_path / 'work')
    first = start_paused(tmp_path, work, 5, opts)
    workers = _children(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait()
    alive = [p for p in workers if osp.exists(f'/proc/{p}')]
    # at once, while the orphaned workers still run (a tool's start-up
    # takes seconds, during which they may exit)
    from projects.fgvc_aam_hardening.work_dir_lock import (
        lock_work_dir, release_work_dir_locks)
    try:
        lock_work_dir(work, log=lambda msg: None)
    finally:
        release_work_dir_locks()
    assert [p for p in alive if osp.exists(f'/proc/{p}')], \
        'no orphaned worker was left: the case is not exercised'
    log = finish(start(train_cmd('tests/configs/tiny_softmax_synthetic.py',
                                 work, '--resume', *opts),
                       str(tmp_path / 'b.log')), timeout=300)
    assert 'WorkDirBusyError' not in log
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))

"""``--resume`` finds the newest intact checkpoint, says which, and names
every file it skips; a truncated checkpoint named explicitly is refused
(issue 13, cases 2-3 and the empty ``last_checkpoint``).

Oracle: work dirs built here with real ``torch.save`` files and files cut
short (as a kill during a save leaves them); which one must be taken
follows from how they were built.
"""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime


def release_work_dir_locks() -> None:
    """Drop the work-dir locks prepare_runtime took in this process."""
    from projects.fgvc_aam_hardening.work_dir_lock import \
        release_work_dir_locks as release
    release()


def _ckpt(path: str, epoch: int, truncate: bool = False) -> str:
    torch.save({'meta': {'epoch': epoch}, 'state_dict': {
        'w': torch.full((64, ), float(epoch))}}, path)
    if truncate:
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    return path


def _work_dir(tmp_path, last=None, truncated=()) -> str:
    work = str(tmp_path / 'work')
    os.makedirs(work)
    for epoch in (1, 2, 3):
        _ckpt(osp.join(work, f'epoch_{epoch}.pth'), epoch,
              truncate=epoch in truncated)
    _ckpt(osp.join(work, 'best_accuracy_top1_epoch_3.pth'), 3)
    if last is not None:
        with open(osp.join(work, 'last_checkpoint'), 'w') as f:
            f.write(last)
    return work


def _find(work):
    from projects.fgvc_aam_hardening.resume import find_resume_checkpoint
    messages = []
    return find_resume_checkpoint(work, log=messages.append), '\n'.join(
        messages)


@pytest.mark.parametrize('last', [None, '', '  \n', 'epoch_9.pth'])
def test_missing_empty_or_dangling_record_takes_newest(tmp_path, last):
    work = _work_dir(tmp_path, last=last)
    if last == 'epoch_9.pth':
        last = osp.join(work, last)  # an absolute path to a deleted file
        with open(osp.join(work, 'last_checkpoint'), 'w') as f:
            f.write(last)
    found, log = _find(work)
    assert found == osp.join(work, 'epoch_3.pth')  # not best_*.pth
    assert osp.join(work, 'last_checkpoint') in log
    assert 'newest intact' in log


def test_record_is_followed_when_intact(tmp_path):
    work = _work_dir(tmp_path, last='x')
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'epoch_2.pth'))
    assert _find(work)[0] == osp.join(work, 'epoch_2.pth')
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write('epoch_1.pth')  # relative to the work dir
    assert _find(work)[0] == osp.join(work, 'epoch_1.pth')


def test_moved_work_dir_takes_the_same_file_here(tmp_path):
    work = _work_dir(tmp_path)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write('/elsewhere/old_disk/work/epoch_2.pth')
    found, log = _find(work)
    assert found == osp.join(work, 'epoch_2.pth')
    assert 'moved' in log and '/elsewhere/old_disk/work/epoch_2.pth' in log


def test_truncated_checkpoints_are_skipped_and_named(tmp_path):
    work = _work_dir(tmp_path, truncated=(3, ))
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'epoch_3.pth'))
    found, log = _find(work)
    assert found == osp.join(work, 'epoch_2.pth')
    assert f'Skipping {osp.join(work, "epoch_3.pth")}: it is truncated' in log
    assert torch.load(found, weights_only=True)['meta']['epoch'] == 2


def _cfg(work, **kw) -> Config:
    return Config(dict(work_dir=work, launcher='none', **kw))


def test_prepare_runtime_resumes_newest_intact(tmp_path):
    """mmengine would start from epoch 1 (no last_checkpoint) and overwrite
    every epoch_*.pth; now load_from is the newest intact checkpoint."""
    work = _work_dir(tmp_path, truncated=(3, ))
    try:
        cfg = prepare_runtime(_cfg(work, resume=True, load_from=None))
    finally:
        release_work_dir_locks()
    assert cfg.load_from == osp.join(work, 'epoch_2.pth')
    assert cfg.resume is True


def test_prepare_runtime_refuses_when_nothing_intact(tmp_path):
    work = _work_dir(tmp_path, truncated=(1, 2, 3))
    os.remove(osp.join(work, 'best_accuracy_top1_epoch_3.pth'))
    try:
        with pytest.raises(FileNotFoundError) as info:
            prepare_runtime(_cfg(work, resume=True, load_from=None))
    finally:
        release_work_dir_locks()
    assert repr(work) in str(info.value) and 'epoch_1.pth' in str(info.value)


@pytest.mark.parametrize('training', [True, False])
def test_truncated_checkpoint_named_explicitly_is_refused(tmp_path,
                                                          training):
    """``--resume CKPT`` and ``tools/test.py CONFIG CKPT``."""
    path = _ckpt(str(tmp_path / 'model.pth'), 1, truncate=True)
    try:
        with pytest.raises(FileNotFoundError, match='is truncated') as info:
            prepare_runtime(
                _cfg(str(tmp_path / 'w'), resume=training, load_from=path),
                training=training)
    finally:
        release_work_dir_locks()
    assert repr(path) in str(info.value)


def test_legacy_pickle_checkpoint_is_refused_with_a_resave_hint(tmp_path):
    """A checkpoint in torch's older (non-zip) format, as torch < 1.6 or
    `_use_new_zipfile_serialization=False` writes it, carries no CRC to
    verify and is the format of CVE-2025-32434: it is not taken (issue 22;
    it used to be), and the message says how to convert it. Our own saves
    are always zip files."""
    from projects.fgvc_aam_hardening.resume import checkpoint_problem
    path = str(tmp_path / 'legacy.pth')
    torch.save({'state_dict': {'w': torch.ones(3)}}, path,
               _use_new_zipfile_serialization=False)
    assert torch.load(path, weights_only=True)['state_dict']['w'].sum() == 3
    assert 'save it again with torch.save' in checkpoint_problem(path)
    # a zip checkpoint cut short is still refused
    zipped = str(tmp_path / 'zipped.pth')
    torch.save({'state_dict': {'w': torch.ones(3)}}, zipped)
    with open(zipped, 'rb') as f:
        data = f.read()
    with open(zipped, 'wb') as f:
        f.write(data[:len(data) // 2])
    assert 'truncated' in checkpoint_problem(zipped)


def _flip_tensor_bytes(path: str, count: int = 8) -> None:
    """Invert ``count`` bytes in the middle of the first tensor's data."""
    import zipfile
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(
        info.extra) + info.file_size // 2
    for i in range(start, start + count):
        data[i] ^= 0xFF
    with open(path, 'wb') as f:
        f.write(bytes(data))


def _cut_middle(path: str, count: int = 16) -> None:
    with open(path, 'rb') as f:
        data = f.read()
    mid = len(data) // 2
    with open(path, 'wb') as f:
        f.write(data[:mid] + data[mid + count:])


def test_damaged_checkpoints_are_skipped_and_named(tmp_path):
    """Issue 22: 8 flipped bytes inside a tensor loaded as other weights,
    and a file with 16 bytes cut from its middle was chosen by --resume.
    Oracle: torch itself loads the flipped file with changed values."""
    work = _work_dir(tmp_path)
    flipped, cut = (osp.join(work, f'epoch_{e}.pth') for e in (3, 2))
    _flip_tensor_bytes(flipped)
    _cut_middle(cut)
    w = torch.load(flipped, weights_only=True)['state_dict']['w']
    assert not torch.equal(w, torch.full((64, ), 3.))  # torch: no CRC check
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(flipped)
    found, log = _find(work)
    assert found == osp.join(work, 'epoch_1.pth')
    assert f'{flipped}, which is damaged: the CRC-32' in log
    assert f'Skipping {cut}: it is damaged' in log


def test_damaged_checkpoint_named_explicitly_is_refused(tmp_path):
    from projects.fgvc_aam.engine import (CheckpointRefusedError,
                                          load_checkpoint_file)
    path = _ckpt(str(tmp_path / 'model.pth'), 1)
    _flip_tensor_bytes(path)
    with pytest.raises(FileNotFoundError, match='CRC-32'):
        prepare_runtime(_cfg(None, load_from=path), training=False)
    with pytest.raises(CheckpointRefusedError) as err:
        load_checkpoint_file(path)
    assert path in str(err.value) and 'CRC-32' in str(err.value)

"""Which checkpoint ``--resume`` continues from, and whether a file is one.

mmengine resumes from the path written in ``work_dir/last_checkpoint`` and
starts a fresh run (overwriting every ``epoch_*.pth``) when that file is
missing; an empty, dangling or truncated target fails deep in ``torch.load``
without naming the file, and a work dir moved elsewhere cannot be resumed
(the path is absolute). :func:`find_resume_checkpoint` takes the target of
``last_checkpoint`` when it is intact (trying the same file name in the
work dir if the work dir was moved), and otherwise the newest intact
``epoch_N.pth`` / ``iter_N.pth``, saying which it took and naming every file
it skipped.

A checkpoint is "intact" when it is a complete zip archive (the format
``torch.save`` has written since torch 1.6) whose every member's CRC-32
matches: a file cut short by a kill or a full disk lacks the end record,
one with bytes cut from its middle does not read back, flipped bytes fail
their member's CRC. The older non-zip formats carry no check and are not
taken.
"""
import logging
import os
import os.path as osp
import re
from typing import Callable, List, Optional

from mmengine.logging import print_log

from projects.fgvc_aam.engine.checkpoint_loading import checkpoint_damage

LAST_CHECKPOINT = 'last_checkpoint'
_STEP_CKPT = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


def _log(msg: str) -> None:
    print_log(msg, logger='current', level=logging.WARNING)


def checkpoint_problem(path: str) -> Optional[str]:
    """``None`` if ``path`` is a complete checkpoint whose zip CRCs match,
    else what is wrong (a phrase that follows "it", e.g. ``'is truncated
    ...'``); see :func:`projects.fgvc_aam.engine.checkpoint_damage`."""
    return checkpoint_damage(path)


def step_checkpoints(work_dir: str) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir``, newest (largest N)
    first."""
    found = []
    for name in os.listdir(work_dir):
        match = _STEP_CKPT.match(name)
        if match:
            found.append((int(match.group(1)), name))
    return [osp.join(work_dir, name) for _, name in sorted(found,
                                                           reverse=True)]


def find_resume_checkpoint(
        work_dir: str,
        log: Callable[[str], None] = _log) -> Optional[str]:
    """The checkpoint to resume the run in ``work_dir`` from, or ``None``.

    Order: the target of ``last_checkpoint`` if intact; the same file name
    in ``work_dir`` (a moved work dir); the newest intact ``epoch_N.pth`` /
    ``iter_N.pth``. Every fallback and every skipped file is reported
    through ``log``.
    """
    if not osp.isdir(work_dir):
        return None
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if osp.isfile(record):
        with open(record, 'rb') as f:
            text = f.read().decode('utf-8', errors='replace').strip()
        if not text:
            log(f'{record} is empty; looking for the newest intact '
                f'checkpoint in {work_dir}.')
        else:
            path = text if osp.isabs(text) else osp.join(work_dir, text)
            problem = checkpoint_problem(path)
            if problem is None:
                log(f'Resuming from {path} (named by {record}).')
                return path
            moved = osp.join(work_dir, osp.basename(text))
            if moved != path and checkpoint_problem(moved) is None:
                log(f'{record} names {text}, which {problem}; the work dir '
                    f'was moved: resuming from {moved}.')
                return moved
            log(f'{record} names {text}, which {problem}; looking for the '
                f'newest intact checkpoint in {work_dir}.')
    else:
        log(f'{record} not found; looking for the newest intact checkpoint '
            f'in {work_dir}.')
    for path in step_checkpoints(work_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            log(f'Resuming from {path} (newest intact checkpoint).')
            return path
        log(f'Skipping {path}: it {problem}.')
    return None

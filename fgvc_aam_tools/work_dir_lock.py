"""One training run per work dir.

Two ``tools/train.py`` started together into the same work dir both pass
the overwrite guard (no checkpoint yet), both exit 0, and each one's
checkpoints may hold the other's weights. :func:`lock_work_dir` takes an
exclusive, non-blocking ``fcntl.flock`` on ``work_dir/train.lock`` and
writes the holder's PID there; a second run is refused with a message
naming the work dir and that PID. The kernel drops the lock when its
holder dies, so a lock left by a killed run is reclaimed by the next one
(which says so). POSIX only; elsewhere it warns and does not lock.
"""
import atexit
import logging
import os
import os.path as osp
from typing import Callable, Dict, Optional, TextIO

from mmengine.logging import print_log

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_FILE = 'train.lock'
_held: Dict[str, TextIO] = {}  # open lock files of this process


class WorkDirBusyError(RuntimeError):
    """Another live process trains into the same work dir."""


def _release(path: str) -> None:
    f = _held.pop(path, None)
    if f is not None:
        f.seek(0)
        f.truncate()  # an empty file: released cleanly
        f.close()


def release_work_dir_locks() -> None:
    """Release every work-dir lock of this process (also done at exit)."""
    for path in list(_held):
        _release(path)


def _warn(msg: str) -> None:
    print_log(msg, logger='current', level=logging.WARNING)


def lock_work_dir(work_dir: str,
                  log: Callable[[str], None] = _warn) -> Optional[str]:
    """Take this process's exclusive lock on ``work_dir`` (created if
    needed); returns the lock file's path (``None`` without ``fcntl``).
    A reclaimed stale lock is reported through ``log``.

    Raises:
        WorkDirBusyError: another live process holds the lock.
    """
    if fcntl is None:  # pragma: no cover
        log('fcntl is unavailable: the work dir is not locked')
        return None
    path = osp.abspath(osp.join(work_dir, LOCK_FILE))
    if path in _held:
        return path
    os.makedirs(work_dir, exist_ok=True)
    f = open(path, 'a+')
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or 'unknown'
        f.close()
        raise WorkDirBusyError(
            f'work dir {work_dir!r} is in use by another training run (PID '
            f'{holder}, lock {path}). Wait for it to finish, stop it, or '
            'choose another --work-dir.') from None
    f.seek(0)
    previous = f.read().strip()
    if previous.isdigit() and int(previous) != os.getpid():
        log(f'Reclaimed the stale lock {path} of PID {previous}: that run '
            'ended without releasing it (killed or crashed).')
    f.seek(0)
    f.truncate()
    f.write(f'{os.getpid()}\n')
    f.flush()
    _held[path] = f
    atexit.register(_release, path)
    return path

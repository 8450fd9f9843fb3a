"""One training run per work dir.

Two ``tools/train.py`` started together into the same work dir both pass
the overwrite guard (no checkpoint yet), both exit 0, and each one's
checkpoints may hold the other's weights. :func:`lock_work_dir` takes an
exclusive, non-blocking POSIX record lock (``fcntl.lockf``) on
``work_dir/train.lock`` and writes the holder's PID there; a second run is
refused with a message naming the work dir and that PID. The kernel drops
the lock when its holder dies, so a lock left by a killed run is reclaimed
by the next one (which says so). POSIX only; elsewhere it warns and does
not lock.

- A record lock belongs to the process that took it: forked children (the
  dataloader workers) do not hold it, so a ``--resume`` right after a
  SIGKILL is not refused while orphaned workers wind down (they held the
  ``flock`` of earlier versions for about 5 s). Caveat of record locks:
  closing *any* descriptor of the file in the holding process drops the
  lock, so nothing but this module opens ``train.lock``.
- The file is opened with ``O_NOFOLLOW`` and must have one link: a
  symlink or hard link planted at ``train.lock`` is refused, naming it,
  instead of truncating its target.
"""
import atexit
import errno
import logging
import os
import os.path as osp
from typing import Callable, Dict, Optional, TextIO

from mmengine.logging import print_log

from projects.fgvc_aam.utils.no_follow import LinkRefusedError, open_no_follow

from .runtime_fixes import run_before_hard_exit

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
    f = os.fdopen(open_no_follow(path, os.O_RDWR | os.O_CREAT), 'r+')
    if os.fstat(f.fileno()).st_nlink != 1:
        f.close()
        raise LinkRefusedError(
            errno.EMLINK, f'{path} has other hard links; refusing to write '
            'to it (remove it)', path)
    try:
        fcntl.lockf(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EAGAIN):
            f.close()
            raise
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
    run_before_hard_exit(release_work_dir_locks)
    return path

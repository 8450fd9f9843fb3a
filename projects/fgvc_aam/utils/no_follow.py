"""Files we create in a work dir, opened without following a symlink.

A symlink planted at a name we write (``train.lock``, a checkpoint's
temporary file) would make us truncate or overwrite whatever it points to.
Every such file is opened with ``O_NOFOLLOW`` (and, for a new file,
``O_CREAT | O_EXCL``, which fails on any existing name, link or not); a
link is refused with :class:`LinkRefusedError` naming it.
"""
import errno
import os
import os.path as osp
from typing import Iterable, Union

O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)  # 0 on Windows
O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


class LinkRefusedError(OSError):
    """A file we were to write is a symbolic link."""


def refuse_link(path: str) -> None:
    """Raise :class:`LinkRefusedError` if ``path`` is a symbolic link."""
    if osp.islink(path):
        raise LinkRefusedError(
            errno.ELOOP, f'{path} is a symbolic link (to '
            f'{os.readlink(path)!r}); refusing to write through it. Remove '
            'the link or choose another work dir', path)


def refuse_any_link(path: str) -> None:
    """Raise :class:`LinkRefusedError` if ``path`` is a symbolic link or a
    file with other hard links: a plain ``open(path, 'w')`` (as upstream
    code writes) would change what the link shares."""
    refuse_link(path)
    if osp.isfile(path) and os.stat(path).st_nlink > 1:
        raise LinkRefusedError(
            errno.EMLINK, f'{path} has other hard links; refusing to write '
            'to it (remove it or choose another work dir)', path)


def open_no_follow(path: str, flags: int, mode: int = 0o644) -> int:
    """``os.open`` with ``O_NOFOLLOW | O_CLOEXEC`` added; a link at
    ``path`` raises :class:`LinkRefusedError` naming it."""
    try:
        fd = os.open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EEXIST, errno.EMLINK):
            refuse_link(path)
        raise
    if not O_NOFOLLOW:  # pragma: no cover - no O_NOFOLLOW: check after
        try:
            refuse_link(path)
        except LinkRefusedError:
            os.close(fd)
            raise
    return fd


def write_new_file(path: str, data: Union[bytes, Iterable[bytes]]) -> None:
    """Write ``data`` (bytes, or chunks of bytes) to a file that must not
    exist yet (no link, no file of someone else's is overwritten),
    ``fsync``-ed before returning."""
    fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        for chunk in ([data] if isinstance(data, bytes) else data):
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)

"""The ``result.json`` of a comparison run: a run is done only when its
metrics are written, atomically (temporary file, ``fsync``, rename; never
through a link); a broken file is named, not reported as a bare
``JSONDecodeError``."""
import json
import os
import os.path as osp
import tempfile

RESULT_FILE = 'result.json'


class ResultFileError(ValueError):
    """A ``result.json`` that cannot be read (names the file)."""


def has_metrics(result: dict) -> bool:
    """Whether ``result`` holds the run's metrics (the last validation's
    ``top1``, or the evaluation of the finetune regime)."""
    return result.get('top1') is not None or bool(result.get('evaluation'))


def write_result(path: str, result: dict) -> None:
    """Write ``result`` to ``path`` atomically; a link there is refused."""
    if osp.islink(path):
        raise ResultFileError(
            f'{path} is a symbolic link; compare_methods never writes '
            'through a link: remove it')
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.',
                               suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(result, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def read_result(path: str) -> dict:
    """The record in ``path``; :class:`ResultFileError` naming the file if
    it is a link, not complete JSON or not a record."""
    if osp.islink(path):
        raise ResultFileError(f'{path} is a symbolic link; remove it')
    try:
        with open(path) as f:
            result = json.load(f)
    except ValueError as e:
        raise ResultFileError(
            f'{path} is not a complete result (JSON error: {e}); it was '
            'cut short or edited: delete it to evaluate the run again, or '
            'pass --retrain') from None
    if not isinstance(result, dict):
        raise ResultFileError(f'{path} holds {type(result).__name__}, not a '
                              'result record; delete it to evaluate again')
    return result

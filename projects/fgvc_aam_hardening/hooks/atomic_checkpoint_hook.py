"""mmengine's ``CheckpointHook`` with atomic writes and prune-after-save.

mmengine 0.10.7 deletes the oldest checkpoint (``max_keep_ckpts``) and the
previous best one *before* writing the new one, writes in place and then
overwrites ``last_checkpoint``: a kill or a full disk during a save leaves
a truncated ``epoch_N.pth``, the previous one deleted and
``last_checkpoint`` pointing at it. This hook keeps the upstream logic
(names, ``keep_ckpt_ids``, best-score bookkeeping) and changes only how
files are written and deleted:

1. every checkpoint (epoch / iter, last, best) is written to a temporary
   name in the same folder, flushed and ``fsync``-ed, then renamed onto its
   final name (``os.replace`` is atomic on POSIX and Windows);
2. the old checkpoints upstream would have deleted are deleted only after
   the new one is safely on disk (and not at all if the save failed).

``last_checkpoint`` is still written in place by upstream, after the
checkpoint it names is on disk; a kill in that instant can leave it empty
or cut short, which ``--resume`` of our tools copes with
(``projects/fgvc_aam_hardening/resume.py`` takes the newest intact
checkpoint then).

No write follows a link (issue 22): the temporary file is created with
``O_CREAT | O_EXCL | O_NOFOLLOW`` (the ``local_no_follow`` file backend),
so a symlink or file planted at its name is refused, naming it; the
rename replaces a link at the final name instead of writing through it;
a symlink at ``last_checkpoint`` is refused before the save. The start-up
clean-up removes only leftovers that are ours: a regular file named
``<checkpoint name>.pth.tmp-saving`` that is empty or starts like a torch
zip archive; anything else is named and left alone.

Atomicity applies to local folders; other storage backends keep the
upstream behaviour. Unknown keyword arguments, which upstream forwards to
``runner.save_checkpoint`` and which only fail at the first save, are
refused here when the hook is built, naming the key and the allowed ones.
"""
import glob
import os
import os.path as osp
import re
import stat
import time
from typing import Any, Iterator, List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.compat.mmengine import SaveWrappingCheckpointHook
from projects.fgvc_aam.utils.no_follow import (LinkRefusedError, refuse_link,
                                               write_new_file)
from projects.fgvc_aam.utils.signatures import init_arguments

TMP_SUFFIX = '.tmp-saving'
NO_FOLLOW_BACKEND = 'local_no_follow'
# test hook of tools/analysis_tools/crash_test.py: seconds to pause in the
# middle of every checkpoint write
SAVE_PAUSE_ENV = 'FGVC_AAM_TEST_SAVE_PAUSE'
_OUR_TMP = re.compile(r'^(?:epoch_\d+|iter_\d+|best_.+|last)\.pth'
                      + re.escape(TMP_SUFFIX) + '$')


@register_backend(NO_FOLLOW_BACKEND)
class NoFollowLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put`` creates a new file and never follows
    a link (:func:`~projects.fgvc_aam.utils.no_follow.write_new_file`)."""

    def put(self, obj: bytes, filepath) -> None:
        os.makedirs(osp.dirname(str(filepath)) or '.', exist_ok=True)
        pause = float(os.environ.get(SAVE_PAUSE_ENV) or 0)
        write_new_file(str(filepath),
                       _halves_with_pause(obj, pause) if pause else obj)


def _halves_with_pause(data: bytes, seconds: float) -> Iterator[bytes]:
    """Test hook (:data:`SAVE_PAUSE_ENV`): the first half, a pause, the
    rest, so that a kill can land in the middle of a checkpoint write."""
    yield data[:len(data) // 2]
    time.sleep(seconds)
    yield data[len(data) // 2:]


def is_our_leftover(path: str) -> bool:
    """Whether ``path`` is a temporary checkpoint file of ours: the name
    :data:`_OUR_TMP`, a regular file (not a link), empty or a zip."""
    if not _OUR_TMP.match(osp.basename(path)):
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    with open(path, 'rb') as f:
        head = f.read(4)
    return head in (b'', b'PK\x03\x04')


def fsync_dir(path: str) -> None:
    """``fsync`` a folder so that a rename inside it is durable (POSIX)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are recorded, not done."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.pending: List[tuple] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def remove(self, path) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path) -> None:
        self.pending.append(('rmtree', path))


class _AtomicSaveRunner:
    """The runner as the upstream hook sees it, except that
    ``save_checkpoint`` writes to a temporary name and renames."""

    def __init__(self, runner) -> None:
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        tmp_name = filename + TMP_SUFFIX
        final = osp.join(out_dir, filename)
        tmp = osp.join(out_dir, tmp_name)
        if not (args and args[0]) and not kwargs.get('file_client_args'):
            # local: the temporary file is created anew, never via a link
            kwargs['backend_args'] = dict(backend=NO_FOLLOW_BACKEND)
        try:
            self._runner.save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            if not is_main_process():  # Runner.save_checkpoint: master only
                return
            os.replace(tmp, final)
        except (FileExistsError, LinkRefusedError):
            raise  # the name was taken before our write: not ours to remove
        except BaseException:
            if is_main_process() and is_our_leftover(tmp):
                os.remove(tmp)
            raise
        fsync_dir(out_dir)


@HOOKS.register_module()
class AtomicCheckpointHook(SaveWrappingCheckpointHook):
    """``CheckpointHook`` that never leaves a truncated checkpoint and never
    deletes an old one before the new one is on disk.

    Upstream's two saves reach it through :meth:`wrap_save`
    (:class:`~projects.fgvc_aam.compat.mmengine.SaveWrappingCheckpointHook`
    overrides mmengine's private save methods, for the mmengine versions it
    was checked on). Same arguments as
    :class:`mmengine.hooks.CheckpointHook`, except that
    extra keyword arguments (upstream forwards them to
    ``runner.save_checkpoint``, which takes none beyond those the hook
    already passes) are refused at build time.
    """

    @classmethod
    def allowed_arguments(cls) -> List[str]:
        """The keyword arguments it takes: those of ``CheckpointHook``."""
        return init_arguments(CheckpointHook)[0]

    def __init__(self, *args, **kwargs) -> None:
        allowed = self.allowed_arguments()
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            shown = ', '.join(f'{k}={kwargs[k]!r}' for k in unknown)
            raise TypeError(
                f'{type(self).__name__}: unknown argument(s) {shown}; '
                f'allowed: {", ".join(allowed)}')
        super().__init__(*args, **kwargs)

    def _is_local(self) -> bool:
        return isinstance(self.file_backend, LocalBackend)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._is_local() and is_main_process():
            # temporary files of a save that was killed midway
            for tmp in sorted(glob.glob(osp.join(self.out_dir,
                                                 '*' + TMP_SUFFIX))):
                if not is_our_leftover(tmp):
                    runner.logger.warning(
                        f'Leaving {tmp} alone: its name or content is not '
                        'that of a checkpoint save of ours.')
                    continue
                runner.logger.warning(
                    f'Removing {tmp}: an unfinished checkpoint save of an '
                    'interrupted run.')
                os.remove(tmp)

    def wrap_save(self, runner, save, *args) -> None:
        """Upstream's save (epoch / iter or best checkpoint), written to a
        temporary name and renamed, its deletions done afterwards."""
        if isinstance(runner, _AtomicSaveRunner) or not self._is_local():
            # not local, or nested (the best-checkpoint save calls
            # _save_checkpoint_with_step): the outer call does the work
            return save(runner, *args)
        # mmengine writes it with open(..., 'w') after the save
        refuse_link(osp.join(runner.work_dir, 'last_checkpoint'))
        backend = self.file_backend
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            save(_AtomicSaveRunner(runner), *args)
        finally:
            self.file_backend = backend
        if is_main_process():
            for action, path in deferred.pending:
                getattr(backend, action)(path)

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
(``fgvc_aam_tools/resume.py`` takes the newest intact checkpoint then).

Atomicity applies to local folders; other storage backends keep the
upstream behaviour. Unknown keyword arguments, which upstream forwards to
``runner.save_checkpoint`` and which only fail at the first save, are
refused here when the hook is built, naming the key and the allowed ones.
"""
import glob
import os
import os.path as osp
from typing import Any, List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from ...utils.signatures import init_arguments

TMP_SUFFIX = '.tmp-saving'


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


def fsync_file(path: str) -> None:
    with open(path, 'rb+') as f:
        f.flush()
        os.fsync(f.fileno())


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
        try:
            self._runner.save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            if not is_main_process():  # Runner.save_checkpoint: master only
                return
            fsync_file(tmp)
            os.replace(tmp, final)
        except BaseException:
            if is_main_process() and osp.exists(tmp):
                os.remove(tmp)
            raise
        fsync_dir(out_dir)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that never leaves a truncated checkpoint and never
    deletes an old one before the new one is on disk.

    Same arguments as :class:`mmengine.hooks.CheckpointHook`, except that
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
                runner.logger.warning(
                    f'Removing {tmp}: an unfinished checkpoint save of an '
                    'interrupted run.')
                os.remove(tmp)

    def _atomically(self, runner, save, *args) -> None:
        if isinstance(runner, _AtomicSaveRunner) or not self._is_local():
            # not local, or nested (the best-checkpoint save calls
            # _save_checkpoint_with_step): the outer call does the work
            return save(runner, *args)
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

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        self._atomically(runner, super()._save_checkpoint_with_step, step,
                         meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        self._atomically(runner, super()._save_best_checkpoint, metrics)

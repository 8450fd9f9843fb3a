"""Test-only hook: park a training process at a known iteration so that a
test can kill it there with a real signal (see test_reliability_resume.py).

Imported by the training subprocess through ``custom_imports`` (the tests
directory is put on its ``PYTHONPATH``); never used by the project.
"""
import os
import time

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class PauseAtIterHook(Hook):
    """After training iteration ``iteration`` (1-based, counted over the
    whole run) has been fully processed, write ``marker`` and sleep.

    It runs last (``LOWEST``), so the iteration's optimizer step, logging and
    the hooks of every other priority have happened; it touches no RNG and
    no training state.
    """

    priority = 'LOWEST'

    def __init__(self, iteration: int, marker: str,
                 seconds: float = 600.0) -> None:
        self.iteration = iteration
        self.marker = marker
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        # runner.iter is incremented after this hook: it is the 0-based
        # index of the iteration that just finished
        if runner.iter + 1 == self.iteration:
            with open(self.marker + '.tmp', 'w') as f:
                f.write(f'{runner.epoch + 1} {batch_idx + 1}\n')
            os.replace(self.marker + '.tmp', self.marker)
            time.sleep(self.seconds)


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """Kill this process with SIGKILL in the middle of writing a checkpoint.

    When a checkpoint file whose name starts with ``name`` (e.g.
    ``'epoch_2.pth'``) is written through mmengine's local file backend,
    half of its bytes are written and flushed, then the process sends
    itself SIGKILL: the state a kill (or a full disk) during a save leaves.
    """

    def __init__(self, name: str) -> None:
        import signal

        from mmengine.fileio import LocalBackend
        put = LocalBackend.put

        def put_then_die(backend, obj, filepath):
            if os.path.basename(str(filepath)).startswith(name):
                with open(filepath, 'wb') as f:
                    f.write(obj[:len(obj) // 2])
                    f.flush()
                    os.fsync(f.fileno())
                os.kill(os.getpid(), signal.SIGKILL)
            return put(backend, obj, filepath)

        LocalBackend.put = put_then_die

"""Checkpoints that plain ``torch.load(path, weights_only=True)`` reads.

mmengine 0.10.7 pickles the message hub's ``HistoryBuffer`` objects (and
the numpy arrays inside them) into every checkpoint. torch >= 2.6 loads
with ``weights_only=True`` and refuses those globals, so upstream tools
(``publish_model.py``, ``get_model``, a user's own ``torch.load``) fail on
our checkpoints unless something allow-lists them first.

:class:`PlainCheckpointHook` stores, in ``before_save_checkpoint``, every
non-``state_dict`` entry as plain types only (dict, list, tuple, str,
numbers, tensors): a ``HistoryBuffer`` becomes
``{'__history_buffer__': {'log_history': [...], 'count_history': [...],
'max_length': n}}``, a numpy array a tensor under ``'__ndarray__'``, a
numpy scalar a Python number. A function or bound method (e.g. the
``anneal_func`` that mmengine's ``OneCycleLR`` keeps in its state) is left
out: a checkpoint holds no code, and the scheduler built from the config
on ``--resume`` has the same function. ``after_load_checkpoint`` (called by
``Runner.resume`` before the message hub is loaded) restores them, so
``--resume`` sees exactly what mmengine saved.
"""
import functools
import types
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmpretrain.registry import HOOKS

BUFFER_KEY = '__history_buffer__'
ARRAY_KEY = '__ndarray__'
_CODE = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
         functools.partial)


def to_plain(obj: Any) -> Any:
    """A copy of ``obj`` made of types ``weights_only`` loading accepts."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {BUFFER_KEY: dict(log_history=to_plain(log),
                                 count_history=to_plain(count),
                                 max_length=int(obj.max_length))}
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return [to_plain(v) for v in obj.tolist()]
        return {ARRAY_KEY: torch.from_numpy(np.ascontiguousarray(obj))}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):  # OrderedDict etc. become dict; no code
        return {k: to_plain(v) for k, v in obj.items()
                if not isinstance(v, _CODE)}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, tuple):  # namedtuples become tuples
        return tuple(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Inverse of :func:`to_plain` (plain values pass through)."""
    if isinstance(obj, dict):
        if set(obj) == {BUFFER_KEY}:
            state = obj[BUFFER_KEY]
            return HistoryBuffer(from_plain(state['log_history']),
                                 from_plain(state['count_history']),
                                 state['max_length'])
        if set(obj) == {ARRAY_KEY}:
            return obj[ARRAY_KEY].numpy()
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(from_plain(v) for v in obj)
    return obj


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Save checkpoints as plain types; restore mmengine's objects on load
    (see the module docstring). The model's ``state_dict`` is untouched."""

    priority = 'LOWEST'  # after every hook that adds to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            if key != 'state_dict':
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            if key != 'state_dict':
                checkpoint[key] = from_plain(checkpoint[key])

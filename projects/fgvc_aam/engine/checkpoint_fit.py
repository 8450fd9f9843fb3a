"""Refuse a checkpoint whose tensors do not fit the model.

mmengine loads checkpoints with ``strict=False``: tensors of another shape
(another width, another class count) or name are skipped with a warning and
left randomly initialised, so ``tools/test.py`` prints the accuracy of a
half-random model with exit 0, and ``--resume`` fails later inside the
optimizer step. :func:`check_checkpoint_fits` compares names and shapes
first and raises :class:`CheckpointMismatchError` listing the first few
differences, unless a partial load was asked for explicitly (then it only
warns).
"""
import logging
from typing import Dict, List, Mapping, Optional

import torch
from mmengine.logging import print_log

PARTIAL_LOAD_OPTION = 'allow_partial_checkpoint'
SHOWN = 5  # differences listed per kind


class CheckpointMismatchError(ValueError):
    """The checkpoint's tensors do not match the model's."""


def _strip_prefix(state_dict: Mapping[str, torch.Tensor]) -> Dict:
    # checkpoints of wrapped models (DDP) carry a ``module.`` prefix, which
    # mmengine's loader removes too
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in state_dict.items()}


def state_dict_mismatches(model: torch.nn.Module,
                          state_dict: Mapping[str, torch.Tensor]
                          ) -> Dict[str, List[str]]:
    """Names missing from / unexpected in ``state_dict`` and tensors of
    another shape, as readable lines."""
    ours = model.state_dict()
    theirs = _strip_prefix(state_dict)
    missing = [k for k in ours if k not in theirs
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in theirs if k not in ours]
    shapes = [
        f'{k}: checkpoint {tuple(theirs[k].shape)} vs model '
        f'{tuple(ours[k].shape)}' for k in ours
        if k in theirs and hasattr(theirs[k], 'shape')
        and tuple(theirs[k].shape) != tuple(ours[k].shape)
    ]
    return dict(shape=shapes, missing=missing, unexpected=unexpected)


def check_checkpoint_fits(model: torch.nn.Module,
                          checkpoint: Mapping,
                          source: Optional[str] = None,
                          allow_partial: bool = False) -> None:
    """Raise :class:`CheckpointMismatchError` if ``checkpoint`` (a dict with
    ``state_dict``, or a state dict) does not fit ``model``; with
    ``allow_partial`` only warn."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    found = state_dict_mismatches(model, state_dict)
    if not any(found.values()):
        return
    parts = []
    for kind, title in (('shape', 'of another shape'),
                        ('missing', 'missing from the checkpoint'),
                        ('unexpected', 'not in the model')):
        items = found[kind]
        if items:
            more = f', ... ({len(items) - SHOWN} more)' if len(
                items) > SHOWN else ''
            parts.append(f'{len(items)} {title} ({"; ".join(items[:SHOWN])}'
                         f'{more})')
    what = f'checkpoint {source!r}' if source else 'the checkpoint'
    msg = f'{what} does not fit the model: {", ".join(parts)}.'
    if allow_partial:
        print_log(f'{msg} Loading the matching tensors only, as asked '
                  f'({PARTIAL_LOAD_OPTION}=True).', logger='current',
                  level=logging.WARNING)
        return
    raise CheckpointMismatchError(
        f'{msg} Nothing was loaded. Check the config (e.g. num_classes, '
        'widths) against the checkpoint; to load only the matching tensors, '
        f'pass --cfg-options {PARTIAL_LOAD_OPTION}=True.')


def load_fitting_checkpoint(model: torch.nn.Module, filename: str,
                            map_location: str = 'cpu',
                            allow_partial: bool = False) -> dict:
    """mmengine's checkpoint loading, refusing a checkpoint that does not
    fit ``model`` (see :func:`check_checkpoint_fits`); a local file is read
    by :func:`~.checkpoint_loading.load_checkpoint_file`."""
    from mmengine.runner import CheckpointLoader

    from ..compat.mmengine import load_checkpoint_to_model
    from .checkpoint_loading import load_checkpoint_file
    if '://' in str(filename):  # mmengine's loaders of remote files
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location=map_location)
    else:  # no code runs, damage refused, whoever calls us
        checkpoint = load_checkpoint_file(filename, map_location)
    check_checkpoint_fits(model, checkpoint, filename, allow_partial)
    return load_checkpoint_to_model(model, checkpoint, strict=False)

"""Loading a checkpoint someone else made: no code runs, damage is refused.

Trust model (README, "Checkpoints you did not make"). A checkpoint may hold
tensors and plain Python values (dict, list, tuple, str, numbers, bytes,
``OrderedDict``): what torch's ``weights_only`` unpickler builds with its
own defaults. We add **nothing** to its allow-list: no callable (no
``getattr``, no function, no class whose construction runs code) and no
mmengine or numpy type. Everything else is refused before any of it is
built:

- a checkpoint written by *plain* mmengine (its message hub pickles
  ``HistoryBuffer`` objects, whose pickle calls ``getattr``, and numpy
  values) is refused with a way out: our configs save plain checkpoints
  (``PlainCheckpointHook``), and MMPretrain's
  ``tools/model_converters/publish_model.py`` drops the message hub;
  allow-listing ``getattr`` let a crafted pickle walk from an allowed
  function to ``eval`` and call it through torch's allowed
  ``_rebuild_from_type_v2``;
- only the zip format ``torch.save`` has written since torch 1.6 is read;
  the older pickle / tar formats (CVE-2025-32434 went through them) are
  refused;
- every member's CRC-32 is checked first (:func:`checkpoint_damage`):
  ``torch.load`` does not, so flipped bytes would load as different
  weights. CRCs catch accidental damage (flipped bits, cut or truncated
  files) and need no sidecar, so checkpoints written by plain mmengine are
  checked too; they are no defence against someone who rewrites the file,
  and neither would a digest stored next to it be: that is what the
  unpickler's refusal is for.

:func:`use_safe_checkpoint_loader` makes mmengine's loader of local files
(``CheckpointLoader``, used by ``Runner.load_checkpoint``/``resume``,
``load_from``, ``init_cfg=Pretrained``, ``get_model``, inferencers) this
one; the tools call it at start-up.
"""
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, Optional

import torch

ZIP_MAGIC = b'PK\x03\x04'


class CheckpointRefusedError(RuntimeError):
    """A checkpoint that is damaged or holds what a checkpoint may not."""


def checkpoint_damage(path: str) -> Optional[str]:
    """``None`` if ``path`` is a complete zip checkpoint whose every
    member's CRC matches, else what is wrong (a phrase following "it")."""
    if not osp.exists(path):
        return 'does not exist'
    if not osp.isfile(path):
        return 'is not a file'
    if osp.getsize(path) == 0:
        return 'is empty (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head != ZIP_MAGIC:
        return ('is not in the zip format torch.save has written since torch '
                '1.6 (e.g. the older pickle or tar format, which we do not '
                'load: it can run code); load it in a trusted environment '
                'and save it again with torch.save')
    if not zipfile.is_zipfile(path):
        return ('is truncated (no zip end record, as left by a save that was '
                'killed or ran out of disk)')
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(n.endswith('data.pkl') for n in archive.namelist()):
                return 'is a zip file but not a torch checkpoint'
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        return f'is damaged: its zip structure does not read back ({e})'
    if bad is not None:
        return (f'is damaged: the CRC-32 of its member {bad!r} does not '
                'match (changed bytes)')
    return None


def load_checkpoint_file(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` of a local checkpoint after :func:`checkpoint_damage`
    found nothing, with ``weights_only=True`` and torch's own allow-list
    only.

    Raises:
        CheckpointRefusedError: naming the file, when it is damaged or
            holds anything else than a checkpoint may.
    """
    path = osp.expanduser(str(filename))
    if not osp.exists(path):
        raise FileNotFoundError(f'{path} can not be found.')
    problem = checkpoint_damage(path)
    if problem is not None:
        raise CheckpointRefusedError(
            f'checkpoint {path!r} {problem}; nothing was loaded.')
    try:
        return torch.load(path, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r'WeightsUnpickler error:\s*(.+)', str(e))
        reason = (found.group(1) if found else str(e)).strip()
        reason = reason.split(' Please use ')[0].splitlines()[0].rstrip('.')
        raise CheckpointRefusedError(
            f'checkpoint {path!r} was refused: it holds objects a checkpoint '
            'may not (only tensors and plain Python values are loaded; '
            'nothing else of it was built or run). Found: '
            f'{reason}. A checkpoint written by plain mmengine (its message '
            "hub's HistoryBuffer, numpy values) is refused too: if you trust "
            "it, drop the message hub in a trusted environment (MMPretrain's "
            'tools/model_converters/publish_model.py does), or train with '
            'our configs, whose PlainCheckpointHook saves plain '
            'checkpoints.') from None
    except Exception as e:  # a crafted file may fail anywhere in torch
        raise CheckpointRefusedError(
            f'checkpoint {path!r} cannot be loaded: {type(e).__name__}: '
            f'{e}') from e


def use_safe_checkpoint_loader() -> None:
    """Make mmengine's ``CheckpointLoader`` read local files with
    :func:`load_checkpoint_file` (idempotent)."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)

"""Validation of CUB-style annotation files, images and class counts.

Every problem raises :class:`DataValidationError` with ONE message that
names the file and the line (or the field) at fault, before training
starts. Nothing here ever writes to the data folder.
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

from mmengine.fileio import get_file_backend

__all__ = [
    'DataValidationError', 'read_id_file', 'check_image_file',
    'check_num_classes', 'num_classes_mismatches', 'topk_mismatches',
    'raise_mismatches', 'dataset_class_count'
]


class DataValidationError(ValueError):
    """Bad data set files (a ``ValueError``, so ``except ValueError``
    catches it too)."""


# id -> (fields after the id, 1-based line number)
IdTable = Dict[int, Tuple[List[str], int]]


def read_id_file(path: str,
                 num_fields: int,
                 what: str,
                 backend=None) -> IdTable:
    """Parse a CUB annotation file whose lines are ``<id> <field> ...``.

    Args:
        path: the file.
        num_fields: number of fields after the id on every line.
        what: what the fields mean (used in messages).
        backend: an mmengine file backend (defaults to the one of ``path``).

    Raises:
        DataValidationError: missing file, malformed line, non-integer or
            non-positive id, duplicated id.
    """
    backend = backend or get_file_backend(path, enable_singleton=True)
    if not backend.exists(path):
        raise DataValidationError(f'missing annotation file: {path}')
    data = backend.get(path)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        lineno = data.count(b'\n', 0, e.start) + 1
        raise DataValidationError(
            f'{path} line {lineno}: not UTF-8 text (byte '
            f'{data[e.start:e.start + 1]!r} at offset {e.start}); save the '
            'file as UTF-8') from None
    table: IdTable = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != num_fields + 1:
            raise DataValidationError(
                f'{path} line {lineno}: expected "<image id> {what}" '
                f'({num_fields + 1} fields), got {line.strip()!r}')
        try:
            idx = int(parts[0])
        except ValueError:
            idx = 0
        if idx < 1:
            raise DataValidationError(
                f'{path} line {lineno}: the id must be a positive integer, '
                f'got {parts[0]!r}')
        if idx in table:
            raise DataValidationError(
                f'{path} line {lineno}: duplicated id {idx} (first on line '
                f'{table[idx][1]})')
        table[idx] = (parts[1:], lineno)
    return table


def _tail_is_complete(fmt: Optional[str], tail: bytes) -> bool:
    """Cheap truncation test: JPEG ends with EOI, PNG with IEND."""
    if fmt == 'JPEG':
        return b'\xff\xd9' in tail
    if fmt == 'PNG':
        return b'IEND' in tail
    return True


def check_image_file(path: str,
                     where: str,
                     full: bool = False) -> Tuple[int, int]:
    """Check that ``path`` is a complete image; return its (width, height).

    The default check reads the header with PIL (format and size) and the
    last kilobyte (JPEG end-of-image / PNG IEND marker), which catches
    truncated files without decoding. ``full=True`` decodes the image.

    Args:
        path: local image file.
        where: the annotation "file line N" that references the image,
            used in messages.
        full: decode the whole image.
    """
    from PIL import Image, UnidentifiedImageError
    if not osp.isfile(path):
        raise DataValidationError(
            f'{where}: image file {path} does not exist')
    try:
        with open(path, 'rb') as f:
            with Image.open(f) as img:
                size, fmt = img.size, img.format
                if full:
                    img.load()
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 1024))
            tail = f.read()
    except Image.DecompressionBombError as e:
        raise DataValidationError(
            f'{where}: {path} is too large to decode safely ({e}); raise '
            'PIL.Image.MAX_IMAGE_PIXELS only for images you trust') from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataValidationError(
            f'{where}: {path} is not a readable image '
            f'({type(e).__name__}: {e})') from None
    if not full and not _tail_is_complete(fmt, tail):
        # no end marker in the last kilobyte: truncated, or a complete image
        # followed by other bytes (allowed); decoding it tells them apart
        try:
            with Image.open(path) as img:
                img.load()
        except (OSError, SyntaxError, ValueError) as e:
            raise DataValidationError(
                f'{where}: {path} is truncated ({type(e).__name__}: {e}); '
                "set verify_images='none' to skip this check") from None
    return size


def dataset_class_count(datasets: Iterable) -> Optional[Tuple[str, int]]:
    """``(description, number of classes)`` the data sets agree on, from
    ``len(dataset.metainfo['classes'])``; None if none of them names its
    classes.

    Raises:
        DataValidationError: two data sets disagree, naming both.
    """
    counts = []
    for ds in datasets:
        if ds is None:
            continue
        classes = getattr(ds, 'metainfo', {}).get('classes')
        if classes is not None:
            # a wrapper (CarvedSplit, RepeatDataset) names its inner root
            root = getattr(ds, 'data_root', '') or getattr(
                getattr(ds, 'dataset', None), 'data_root', '')
            counts.append((f'{type(ds).__name__} ({root})' if root else
                           type(ds).__name__, len(classes)))
    if not counts:
        return None
    name0, n0 = counts[0]
    for name, n in counts[1:]:
        if n != n0:
            raise DataValidationError(
                f'data sets disagree on the number of classes: {name0} '
                f'has {n0}, {name} has {n}')
    return counts[0]


# (config key, its value, the value to set)
Mismatch = Tuple[str, object, object]


def topk_mismatches(metrics: Iterable, num_classes: int,
                    where: str) -> List[Mismatch]:
    """The ``Accuracy`` metrics asking for top-k with k larger than the
    number of classes (MMPretrain fails only when it evaluates).

    Args:
        metrics: built metrics (``Evaluator.metrics``), in config order.
        num_classes: the data set's class count.
        where: the config key of the evaluator, e.g. ``'val_evaluator'``
            (``'val_evaluator.1'`` is used for the second metric of a
            list).
    """
    metrics = list(metrics)
    found = []
    for i, metric in enumerate(metrics):
        topk = getattr(metric, 'topk', None)
        if not isinstance(topk, tuple) or max(topk, default=0) <= num_classes:
            continue
        key = f'{where}.{i}' if len(metrics) > 1 else where
        keep = tuple(k for k in topk if k <= num_classes) or (1, )
        found.append((f'{key}.topk', topk, keep))
    return found


def num_classes_mismatches(model, num_classes: int) -> List[Mismatch]:
    """Every submodule of ``model`` (data preprocessor, heads, losses...)
    whose integer ``num_classes`` is not ``num_classes``, except values
    <= 0: MMPretrain's backbones (e.g. ``VGG(num_classes=-1)``) use them
    for "no classifier"."""
    model = getattr(model, 'module', model)  # DDP / model wrappers
    found = []
    for mod_name, mod in model.named_modules():
        value = getattr(mod, 'num_classes', None)
        if isinstance(value, int) and not isinstance(value, bool) \
                and value > 0 and value != num_classes:
            field = f'model.{mod_name}.num_classes' if mod_name \
                else 'model.num_classes'
            if mod_name == 'data_preprocessor':
                field = 'data_preprocessor.num_classes'
            found.append((field, value, num_classes))
    return found


def _as_option(value) -> str:
    if isinstance(value, tuple):
        return str(value[0]) if len(value) == 1 else \
            '"(' + ','.join(map(str, value)) + ')"'
    return str(value)


def raise_mismatches(mismatches: List[Mismatch], data: str,
                     num_classes: int) -> None:
    """Raise one :class:`DataValidationError` naming every mismatch and
    the ``--cfg-options`` that fixes them all; nothing if there is none."""
    if not mismatches:
        return
    have = ', '.join(f'{k}={v}' for k, v, _ in mismatches)
    fix = ' '.join(f'{k}={_as_option(v)}' for k, _, v in mismatches)
    raise DataValidationError(
        f'{have} in the config disagree(s) with the data set: {data} has '
        f"{num_classes} classes (len(dataset.metainfo['classes'])); set "
        f'--cfg-options {fix} (tools/train.py and tools/test.py set them '
        'from the data set)')


def check_num_classes(model, datasets: Iterable) -> None:
    """Compare the model's ``num_classes`` (see
    :func:`num_classes_mismatches`) with ``len(dataset.metainfo
    ['classes'])`` of every data set given.

    Raises:
        DataValidationError: naming every module at odds and both values.
    """
    found = dataset_class_count(datasets)
    if found is not None:
        raise_mismatches(num_classes_mismatches(model, found[1]), *found)

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
    'check_num_classes', 'check_topk'
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


def check_topk(metrics: Iterable, num_classes: int, where: str,
               data: str = 'the data set') -> None:
    """Refuse an ``Accuracy`` metric asking for top-k with k larger than
    the number of classes (MMPretrain fails only when it evaluates).

    Args:
        metrics: built metrics (``Evaluator.metrics``), in config order.
        num_classes: the data set's class count.
        where: the config key of the evaluator, e.g. ``'val_evaluator'``
            (``'val_evaluator.1'`` is used for the second metric of a
            list).
        data: the data set, for the message.
    """
    metrics = list(metrics)
    for i, metric in enumerate(metrics):
        topk = getattr(metric, 'topk', None)
        if not isinstance(topk, tuple) or max(topk, default=0) <= num_classes:
            continue
        key = f'{where}.{i}' if len(metrics) > 1 else where
        keep = tuple(k for k in topk if k <= num_classes) or (1, )
        raise DataValidationError(
            f'{key}.topk={topk} ({type(metric).__name__}) asks for top-'
            f'{max(topk)} but {data} has {num_classes} classes; set '
            f'--cfg-options {key}.topk={_as_option(keep)} (tools/train.py '
            'and tools/test.py set it from the data set)')


def _as_option(topk: Tuple[int, ...]) -> str:
    return str(topk[0]) if len(topk) == 1 else \
        '"(' + ','.join(map(str, topk)) + ')"'


def check_num_classes(model, datasets: Iterable) -> None:
    """Compare the model's ``num_classes`` with the data sets' classes.

    Every submodule of ``model`` (data preprocessor, heads, losses...)
    that has an integer attribute ``num_classes`` must agree with
    ``len(dataset.metainfo['classes'])`` of every data set given, except
    values <= 0: MMPretrain's backbones (e.g. ``VGG(num_classes=-1)``) use
    them for "no classifier".

    Raises:
        DataValidationError: naming the module and both values.
    """
    model = getattr(model, 'module', model)  # DDP / model wrappers
    found = dataset_class_count(datasets)
    if found is None:
        return
    name0, n0 = found
    for mod_name, mod in model.named_modules():
        value = getattr(mod, 'num_classes', None)
        if isinstance(value, int) and not isinstance(value, bool) \
                and value > 0 and value != n0:
            field = f'model.{mod_name}.num_classes' if mod_name \
                else 'model.num_classes'
            if mod_name == 'data_preprocessor':
                field = 'data_preprocessor.num_classes'
            raise DataValidationError(
                f'{field}={value} in the config disagrees with the data '
                f'set: {name0} has {n0} classes '
                "(len(dataset.metainfo['classes'])); set --cfg-options "
                f'{field}={n0} (tools/train.py and tools/test.py set it '
                'from the data set)')

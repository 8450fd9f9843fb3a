"""CUB-200-2011 with class names from ``classes.txt``, optional bounding
boxes and strict validation of the annotation files."""
import os.path as osp
import posixpath
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.fileio import LocalBackend, get_file_backend
from mmpretrain.datasets import CUB
from mmpretrain.registry import DATASETS

from ..utils.checks import check_bool, check_choice, check_float
from .generated_set import check_generated_set
from .validation import DataValidationError, check_image_file, read_id_file

VERIFY_MODES = ('none', 'header', 'full')


def _class_name(entry: str) -> str:
    """'001.Black_footed_Albatross' -> 'Black_footed_Albatross'."""
    m = re.match(r'^\d+\.(.+)$', entry)
    return m.group(1) if m else entry


_LOADERS = ('LoadImageFromFile', 'mmpretrain.LoadImageFromFile',
            'mmcv.LoadImageFromFile')


def stored_orientation_pipeline(pipeline, with_bbox: bool) -> list:
    """``pipeline`` whose image loader keeps the stored pixel orientation.

    CUB's boxes are in stored pixels (EXIF orientation not applied), and so
    is the size the image check reads, but OpenCV and Pillow rotate a JPEG
    by its EXIF orientation by default. A ``LoadImageFromFile`` without
    ``color_type`` gets ``'color_ignore_orientation'``; one that asks for
    the rotation explicitly (``'color'`` / ``'grayscale'``) is refused when
    boxes are loaded.
    """
    out = []
    for t in pipeline or ():
        if isinstance(t, dict) and t.get('type') in _LOADERS:
            color = t.get('color_type')
            if color is None:
                t = type(t)(t, color_type='color_ignore_orientation')
            elif color in ('color', 'grayscale') and with_bbox:
                raise ValueError(
                    f'CUBWithBoxes: pipeline LoadImageFromFile color_type='
                    f'{color!r} rotates images by their EXIF orientation, '
                    'but bounding_boxes.txt is in stored pixels; use '
                    f"color_type='{color}_ignore_orientation' or leave it "
                    'unset')
        out.append(t)
    return out


@DATASETS.register_module()
class CUBWithBoxes(CUB):
    """MMPretrain's :class:`~mmpretrain.datasets.CUB` that reads its class
    names from ``classes.txt`` and can load ``bounding_boxes.txt``.

    Because the class names come from ``classes.txt`` (``<id> NNN.name``,
    the ``NNN.`` prefix is dropped, as in MMPretrain's CUB names), any
    CUB-layout data set works: real CUB-200-2011 (200 classes) or the
    synthetic one (:func:`make_synthetic_fgvc`).

    With ``with_bbox=True`` each sample gets ``gt_bboxes``: a float32 array
    (1, 4) ``x1, y1, x2, y2`` in pixels of the original image, from the
    CUB line ``<id> <x> <y> <w> <h>`` as ``x2 = x + w``, ``y2 = y + h``.

    Before training, the annotation files are validated and every problem
    raises :class:`DataValidationError` naming the file and line: missing
    file, malformed line, duplicated id, ids missing from / unknown to
    ``images.txt``, split value not 0/1, label outside ``[1, K]`` for the
    ``K`` classes of ``classes.txt``, ``classes.txt`` ids not ``1..K`` or
    disagreeing with the class folders of ``images.txt``, box with
    ``w <= 0`` / ``h <= 0`` or outside its image, missing image file (of
    either split), non-image or truncated image file (of the split), an
    image path listed twice (compared normalised: ``./``, ``..`` and case),
    a generated set that is not whole (see :mod:`.generated_set`). Nothing
    is ever written to ``data_root``.

    Orientation: images are loaded, checked and boxed in their *stored*
    pixels (a JPEG's EXIF orientation is not applied), the frame of CUB's
    ``bounding_boxes.txt`` (see :func:`stored_orientation_pipeline`).

    Args:
        data_root: root of the CUB-200-2011 layout.
        split: ``'train'`` or ``'test'``.
        test_mode: see :class:`~mmpretrain.datasets.CUB`.
        with_bbox: load ``bounding_boxes.txt`` into ``gt_bboxes``.
        verify_images: check the images of the split: ``'header'``
            (default; PIL header + end-of-file marker, about 0.1 ms per
            image, gives the image size used to check boxes), ``'full'``
            (decode every image) or ``'none'`` (only check that the files
            exist; boxes are then not checked against the image size).
        bbox_tolerance: pixels a box may exceed its image by (rounding in
            annotations); boxes are then clipped to the image.
        **kwargs: passed to :class:`~mmpretrain.datasets.CUB` (pipeline,
            metainfo, classes, lazy_init, ...). If neither ``classes`` nor
            ``metainfo['classes']`` is given, ``classes.txt`` defines them.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 test_mode: bool = False,
                 with_bbox: bool = False,
                 verify_images: str = 'header',
                 bbox_tolerance: float = 1.0,
                 **kwargs):
        owner = 'CUBWithBoxes'
        self.verify_images = check_choice('verify_images', verify_images,
                                          VERIFY_MODES, owner)
        self.with_bbox = check_bool('with_bbox', with_bbox, owner)
        check_bool('test_mode', test_mode, owner)
        self.bbox_tolerance = check_float('bbox_tolerance', bbox_tolerance,
                                          0.0, owner=owner, finite=False)
        backend = get_file_backend(data_root, enable_singleton=True)
        self.classes_file = backend.join_path(data_root, 'classes.txt')
        self.bounding_boxes_file = backend.join_path(data_root,
                                                     'bounding_boxes.txt')
        self._class_entries = read_id_file(self.classes_file, 1,
                                           'NNN.class_name', backend)
        self._check_class_ids()
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if kwargs.get('classes') is None and 'classes' not in metainfo:
            metainfo['classes'] = tuple(
                _class_name(self._class_entries[i][0][0])
                for i in sorted(self._class_entries))
        self._tables: Dict[str, Dict] = {}
        self._boxes: Dict[int, np.ndarray] = {}
        if 'pipeline' in kwargs:
            kwargs['pipeline'] = stored_orientation_pipeline(
                kwargs['pipeline'], with_bbox)
        super().__init__(
            data_root=data_root,
            split=split,
            test_mode=test_mode,
            metainfo=metainfo,
            **kwargs)

    # ------------------------------------------------------------------
    def _check_class_ids(self) -> None:
        for expected, idx in enumerate(self._class_entries, 1):
            if idx != expected:
                lineno = self._class_entries[idx][1]
                raise DataValidationError(
                    f'{self.classes_file} line {lineno}: class id {idx}, '
                    f'expected {expected} (class ids must be 1..K in order)')

    def _read(self, path: str, num_fields: int, what: str):
        """Strictly parsed id table of ``path`` (parsed once per load)."""
        if path not in self._tables:
            self._tables[path] = read_id_file(path, num_fields, what,
                                              self.backend)
        return self._tables[path]

    def _split_data_list(self, images: Dict, labels: Dict,
                         splits: Dict) -> List[dict]:
        """CUB's data list (``CUB.load_data_list`` of MMPretrain 1.x) from
        the strictly parsed tables: the images of the split in
        ``images.txt`` order, ``gt_label`` 0-based."""
        in_split = '1' if self.split == 'train' else '0'
        return [
            dict(img_path=self.backend.join_path(self.img_prefix, fields[0]),
                 gt_label=int(labels[idx][0][0]) - 1)
            for idx, (fields, _) in images.items()
            if splits[idx][0][0] == in_split
        ]

    def _check_tables(self) -> Tuple[Dict, Dict, Dict, Optional[Dict]]:
        images = self._read(self.ann_file, 1, 'relative/image/path')
        labels = self._read(self.image_class_labels_file, 1,
                            'label (1-based)')
        splits = self._read(self.train_test_split_file, 1,
                            'is_train (0 or 1)')
        boxes = self._read(self.bounding_boxes_file, 4,
                           'x y width height') if self.with_bbox else None
        others = [(self.image_class_labels_file, labels),
                  (self.train_test_split_file, splits)]
        if boxes is not None:
            others.append((self.bounding_boxes_file, boxes))
            # box values of every line (those of the other split too)
            self._boxes = {
                idx: self._parse_box(idx, fields, lineno)
                for idx, (fields, lineno) in boxes.items()
            }
        # Same image ids everywhere.
        for path, table in others:
            for idx, (_, lineno) in table.items():
                if idx not in images:
                    raise DataValidationError(
                        f'{path} line {lineno}: image id {idx} is not in '
                        f'{self.ann_file}')
            for idx, (_, lineno) in images.items():
                if idx not in table:
                    raise DataValidationError(
                        f'{self.ann_file} line {lineno}: image id {idx} has '
                        f'no line in {path}')
        # Unique image paths (a path under two ids would leak across
        # splits), compared normalised: ``dir/./x.jpg``, ``a/../dir/x.jpg``
        # and ``DIR/X.jpg`` (same file on a case-insensitive disk) are
        # ``dir/x.jpg``.
        seen: Dict[str, Tuple[int, str]] = {}
        for idx, ((rel, ), lineno) in images.items():
            key = posixpath.normpath(rel.replace('\\', '/'))
            if key.startswith(('/', '../')) or key == '..':
                raise DataValidationError(
                    f'{self.ann_file} line {lineno}: image path {rel!r} '
                    'leaves the images folder')
            if key.lower() in seen:
                first, first_rel = seen[key.lower()]
                raise DataValidationError(
                    f'{self.ann_file} line {lineno}: image {rel!r} is listed '
                    f'twice (also on line {first} as {first_rel!r})')
            seen[key.lower()] = (lineno, rel)
        # Split values.
        for idx, ((flag, ), lineno) in splits.items():
            if flag not in ('0', '1'):
                raise DataValidationError(
                    f'{self.train_test_split_file} line {lineno}: is_train '
                    f'must be 0 or 1, got {flag!r}')
        # Labels against classes.txt, and against the class folders.
        num_classes = len(self._class_entries)
        folders = {
            fields[0]: idx
            for idx, (fields, _) in self._class_entries.items()
        }
        for idx, ((label, ), lineno) in labels.items():
            try:
                value = int(label)
            except ValueError:
                value = None
            if value is None or not 1 <= value <= num_classes:
                raise DataValidationError(
                    f'{self.image_class_labels_file} line {lineno}: label '
                    f'{label!r} of image id {idx} is outside [1, '
                    f'{num_classes}] ({self.classes_file} lists '
                    f'{num_classes} classes; labels are 1-based)')
            rel, img_line = images[idx][0][0], images[idx][1]
            folder = rel.split('/')[0] if '/' in rel else None
            if folder in folders and folders[folder] != value:
                raise DataValidationError(
                    f'{self.image_class_labels_file} line {lineno}: image id '
                    f'{idx} has label {value} '
                    f'({self._class_entries[value][0][0]!r} in '
                    f'{self.classes_file}) but {self.ann_file} line '
                    f'{img_line} puts it in folder {folder!r} (class '
                    f'{folders[folder]})')
        meta_classes = self.metainfo.get('classes')
        if meta_classes is not None and len(meta_classes) != num_classes:
            raise DataValidationError(
                f"CUBWithBoxes: metainfo/classes has {len(meta_classes)} "
                f'names but {self.classes_file} lists {num_classes} classes')
        return images, labels, splits, boxes

    def _parse_box(self, idx: int, fields: List[str],
                   lineno: int) -> np.ndarray:
        """CUB ``x y w h`` -> float32 (1, 4) ``x1, y1, x2, y2``; checks what
        needs no image: numbers, finite, positive size, not left/above 0."""
        where = f'{self.bounding_boxes_file} line {lineno}'
        try:
            x, y, w, h = (float(v) for v in fields)
        except ValueError:
            raise DataValidationError(
                f'{where}: box of image id {idx} must be 4 numbers '
                f'"x y width height", got {" ".join(fields)!r}') from None
        if not all(np.isfinite([x, y, w, h])):
            raise DataValidationError(
                f'{where}: box of image id {idx} is not finite: {fields}')
        if w <= 0 or h <= 0:
            raise DataValidationError(
                f'{where}: box of image id {idx} has width {w} / height {h}'
                f' (x2 = {x + w} <= x1 = {x} or y2 = {y + h} <= y1 = {y})')
        if x < -self.bbox_tolerance or y < -self.bbox_tolerance:
            raise DataValidationError(
                f'{where}: box (x1, y1, x2, y2) = ({x}, {y}, {x + w}, '
                f'{y + h}) of image id {idx} lies outside its image')
        return np.array([[x, y, x + w, y + h]], dtype=np.float32)

    def _fit_box(self, box: np.ndarray, idx: int, lineno: int,
                 size: Optional[Tuple[int, int]]) -> np.ndarray:
        """Check the box against the image ``size`` (w, h); clip it."""
        if size is None:
            return box.clip(0, None)
        tol = self.bbox_tolerance
        if box[0, 2] > size[0] + tol or box[0, 3] > size[1] + tol:
            x1, y1, x2, y2 = (float(v) for v in box[0])
            raise DataValidationError(
                f'{self.bounding_boxes_file} line {lineno}: box (x1, y1, '
                f'x2, y2) = ({x1}, {y1}, {x2}, {y2}) of image id {idx} lies '
                f'outside its {size[0]}x{size[1]} image')
        box = box.copy()
        box[:, 0::2] = box[:, 0::2].clip(0, size[0])
        box[:, 1::2] = box[:, 1::2].clip(0, size[1])
        return box

    def load_data_list(self) -> List[dict]:
        """Validate the files, load CUB's list, attach ``gt_bboxes``."""
        self._tables = {}
        try:
            if isinstance(self.backend, LocalBackend):
                check_generated_set(self.data_root,
                                    self.verify_images == 'full')
            images, labels, splits, boxes = self._check_tables()
            data_list = self._split_data_list(images, labels, splits)
            if not data_list:
                raise DataValidationError(
                    f'{self.train_test_split_file}: the {self.split} split is '
                    f'empty (no line has is_train={int(self.split == "train")}'
                    f'; {len(images)} images listed in {self.ann_file})')
            by_path = {
                self.backend.join_path(self.img_prefix, fields[0]):
                (idx, lineno)
                for idx, (fields, lineno) in images.items()
            }
            local = isinstance(self.backend, LocalBackend)
            if local:  # every listed image, those of the other split too
                for path, (idx, lineno) in by_path.items():
                    if not osp.isfile(path):
                        raise DataValidationError(
                            f'{self.ann_file} line {lineno}: image file '
                            f'{path} does not exist')
            for info in data_list:
                idx, lineno = by_path[info['img_path']]
                size = None
                where = f'{self.ann_file} line {lineno}'
                if local and self.verify_images != 'none':
                    size = check_image_file(
                        info['img_path'], where,
                        full=self.verify_images == 'full')
                elif local and not self.backend.exists(info['img_path']):
                    raise DataValidationError(
                        f'{where}: image file {info["img_path"]} does not '
                        'exist')
                if boxes is not None:
                    info['gt_bboxes'] = self._fit_box(
                        self._boxes[idx], idx, boxes[idx][1], size)
        finally:
            self._tables, self._boxes = {}, {}
        return data_list

    def extra_repr(self) -> List[str]:
        body = super().extra_repr()
        body.append(f'With boxes: \t{self.with_bbox}')
        return body

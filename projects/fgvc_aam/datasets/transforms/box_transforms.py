"""Box-aware versions of MMPretrain transforms that ignore ``gt_bboxes``.

MMCV's ``Resize``, ``RandomFlip`` and ``CenterCrop`` (registered in
MMPretrain too) already move ``gt_bboxes``; MMPretrain's ``RandomCrop``,
``RandomResizedCrop`` and ``ResizeEdge`` change the image only. The
subclasses below call the parent transform and apply the same geometry
to ``gt_bboxes`` ((N, 4) ``x1, y1, x2, y2`` pixels, continuous
coordinates: a pixel column ``c`` spans ``[c, c + 1)``). Boxes are clipped
to the output image; a box that leaves the crop entirely becomes empty
(zero width or height) rather than being dropped, so every sample keeps
exactly one box.
"""
import math
from typing import Tuple

import numpy as np
from mmpretrain.datasets.transforms import (RandomCrop, RandomResizedCrop,
                                            ResizeEdge)
from mmpretrain.registry import TRANSFORMS

from ...utils.checks import check_choice, check_int

__all__ = ['BoxAwareRandomCrop', 'BoxAwareRandomResizedCrop',
           'BoxAwareResizeEdge']


def _crop_boxes(boxes: np.ndarray, left: float, top: float, width: int,
                height: int) -> np.ndarray:
    """Shift boxes into a crop whose top-left corner is (left, top) and
    clip them to its ``width`` x ``height``."""
    out = np.asarray(boxes, dtype=np.float32) - np.array(
        [left, top, left, top], dtype=np.float32)
    out[:, 0::2] = out[:, 0::2].clip(0, width)
    out[:, 1::2] = out[:, 1::2].clip(0, height)
    return out


def _padding_left_top(padding) -> Tuple[int, int]:
    """Left/top part of an ``mmcv.impad`` padding spec."""
    if padding is None:
        return 0, 0
    if isinstance(padding, int):
        return padding, padding
    padding = tuple(padding)
    if len(padding) in (2, 4):
        return padding[0], padding[1]
    raise ValueError(f'padding={padding!r} must be an int or a sequence of '
                     '2 or 4 ints')


def _check_size(name: str, value, owner: str) -> None:
    """Build-time check: a positive int or a pair of positive ints (the
    parents only ``assert``, without naming the argument)."""
    if isinstance(value, (tuple, list)) and len(value) != 2:
        raise ValueError(f'{owner}: `{name}` must be a positive int or a '
                         f'pair of positive ints, got {value!r}')
    for v in value if isinstance(value, (tuple, list)) else [value]:
        check_int(name, v, 1, owner)


@TRANSFORMS.register_module()
class BoxAwareRandomCrop(RandomCrop):
    """MMPretrain ``RandomCrop`` that also shifts and clips ``gt_bboxes``.

    Same arguments as :class:`mmpretrain.datasets.transforms.RandomCrop`
    (padding and ``pad_if_needed`` included). ``img_shape`` is set to
    ``(h, w)`` like MMCV's transforms.
    """

    def __init__(self, crop_size, padding=None, **kwargs):
        owner = type(self).__name__
        _check_size('crop_size', crop_size, owner)
        is_seq = isinstance(padding, (tuple, list))
        if is_seq and len(padding) not in (2, 4):
            raise ValueError(f'{owner}: `padding` must be None, an int >= 0 '
                             f'or 2 or 4 of them, got {padding!r}')
        if padding is not None:
            for p in padding if is_seq else [padding]:
                check_int('padding', p, 0, owner)
        check_choice('padding_mode', kwargs.get('padding_mode', 'constant'),
                     ('constant', 'edge', 'reflect', 'symmetric'), owner)
        super().__init__(crop_size, padding=padding, **kwargs)

    def rand_crop_params(self, img: np.ndarray):
        params = super().rand_crop_params(img)
        self._last_params = params
        return params

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        pad_l, pad_t = _padding_left_top(self.padding)
        if self.padding is not None:
            # the padded image size before pad_if_needed
            pads = self.padding
            if isinstance(pads, int):
                pads = (pads, ) * 4
            elif len(pads) == 2:
                pads = (pads[0], pads[1], pads[0], pads[1])
            h, w = h + pads[1] + pads[3], w + pads[0] + pads[2]
        if self.pad_if_needed:
            pad_t += math.ceil(max(0, self.crop_size[0] - h) / 2)
            pad_l += math.ceil(max(0, self.crop_size[1] - w) / 2)
        results = super().transform(results)
        off_h, off_w, th, tw = self._last_params
        results['img_shape'] = results['img'].shape[:2]
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'] = _crop_boxes(results['gt_bboxes'],
                                               off_w - pad_l, off_h - pad_t,
                                               tw, th)
        return results


@TRANSFORMS.register_module()
class BoxAwareRandomResizedCrop(RandomResizedCrop):
    """MMPretrain ``RandomResizedCrop`` that also crops and rescales
    ``gt_bboxes``; sets ``img_shape`` to ``(h, w)``."""

    def __init__(self, scale, **kwargs):
        owner = type(self).__name__
        _check_size('scale', scale, owner)
        check_int('max_attempts', kwargs.get('max_attempts', 10), 0, owner)
        check_choice('interpolation', kwargs.get('interpolation', 'bilinear'),
                     ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos'),
                     owner)
        super().__init__(scale, **kwargs)

    def rand_crop_params(self, img: np.ndarray):
        params = super().rand_crop_params(img)
        self._last_params = params
        return params

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        off_h, off_w, th, tw = self._last_params
        out_h, out_w = results['img'].shape[:2]
        results['img_shape'] = (out_h, out_w)
        if results.get('gt_bboxes', None) is not None:
            boxes = _crop_boxes(results['gt_bboxes'], off_w, off_h, tw, th)
            boxes *= np.array([out_w / tw, out_h / th] * 2, dtype=np.float32)
            results['gt_bboxes'] = boxes
        return results


@TRANSFORMS.register_module()
class BoxAwareResizeEdge(ResizeEdge):
    """MMPretrain ``ResizeEdge`` that also rescales ``gt_bboxes`` with the
    ``scale_factor`` (w_scale, h_scale) it records."""

    def __init__(self, scale, edge='short', **kwargs):
        owner = type(self).__name__
        check_int('scale', scale, 1, owner)
        check_choice('edge', edge, ('short', 'long', 'width', 'height'),
                     owner)
        super().__init__(scale, edge=edge, **kwargs)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if results.get('gt_bboxes', None) is not None:
            w_scale, h_scale = results['scale_factor']
            boxes = np.asarray(results['gt_bboxes'], dtype=np.float32) * \
                np.array([w_scale, h_scale] * 2, dtype=np.float32)
            h, w = results['img'].shape[:2]
            results['gt_bboxes'] = _crop_boxes(boxes, 0, 0, w, h)
        return results

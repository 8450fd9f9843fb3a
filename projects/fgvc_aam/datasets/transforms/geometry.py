"""Where network-input pixels come from in the original image.

A test pipeline resizes and crops; a box predicted on the network input
(``pred_bboxes``) is then in the wrong pixels for the user's image.
:class:`RecordInputGeometry` runs the geometric transforms of a pipeline and
records, per image, the axis-aligned map they applied::

    x_in = s_x * x_ori - o_x      y_in = s_y * y_ori - o_y

as ``input_scale = (s_x, s_y)`` (the total resize factor) and
``input_offset = (o_x, o_y)`` (the crop's top-left corner, in resized
pixels) in the data sample's metainfo. :func:`boxes_to_original` inverts
it. The map is measured, not re-derived: before each transform a probe box
(the central eighth of the current image) is appended to ``gt_bboxes``, and
every box-aware transform (MMCV's ``Resize`` / ``CenterCrop``, our
``BoxAware*``) moves it like any box; a resize that ignores boxes
(MMPretrain's ``ResizeEdge``) is measured from the image sizes.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS

__all__ = ['RecordInputGeometry', 'boxes_to_original']

_ATOL = 1e-3  # pixels


def _probe(height: int, width: int) -> np.ndarray:
    """The central eighth of each side (kept by any centre crop that keeps
    at least an eighth of the image)."""
    return np.array([[7 * width / 16, 7 * height / 16, 9 * width / 16,
                      9 * height / 16]], dtype=np.float64)


@TRANSFORMS.register_module()
class RecordInputGeometry(BaseTransform):
    """Run ``transforms`` (a test pipeline without image loading) and put
    ``input_scale`` / ``input_offset`` (see the module docstring) into the
    packed data sample's metainfo.

    Args:
        transforms (list[dict | callable]): the pipeline; the last one is
            usually a ``PackInputs``. Flips are refused (a box cannot be
            mapped back through a mirror by scale and offset).
    """

    def __init__(self, transforms: Sequence[Union[dict, callable]]):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError('RecordInputGeometry: `transforms` must be a list '
                            f'of transforms, got {transforms!r}')
        self.transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]

    def transform(self, results: dict) -> Optional[dict]:
        # x_ori = a * x_cur + b per axis (x, y)
        a = np.ones(2)
        b = np.zeros(2)
        for t in self.transforms:
            img = results.get('img') if isinstance(results, dict) else None
            if img is None or isinstance(t, PackInputs):
                results = t(results)
                if results is None:
                    return None
                continue
            results, a, b = self._step(t, results, a, b)
        scale = 1. / a
        offset = b / a
        sample = results.get('data_samples') if isinstance(results,
                                                           dict) else None
        geometry = dict(input_scale=tuple(float(v) for v in scale),
                        input_offset=tuple(float(v) for v in offset))
        if sample is not None:
            sample.set_metainfo(geometry)
        else:
            results.update(geometry)
        return results

    def _step(self, t, results: dict, a: np.ndarray,
              b: np.ndarray) -> Tuple[dict, np.ndarray, np.ndarray]:
        """Run ``t``; the results and the updated ``x_ori = a x + b``."""
        h, w = results['img'].shape[:2]
        probe = _probe(h, w)
        gt = results.get('gt_bboxes', None)
        num_gt = 0 if gt is None else len(np.asarray(gt).reshape(-1, 4))
        if gt is None:
            results['gt_bboxes'] = probe
        else:  # the ground truth keeps its dtype, so its numbers do not move
            gt = np.asarray(gt).reshape(-1, 4)
            results['gt_bboxes'] = np.concatenate(
                [gt, probe.astype(gt.dtype)])
        img0, scale0 = results['img'], results.get('scale_factor')
        out = t(results)
        if out is None:
            raise ValueError(f'RecordInputGeometry: {type(t).__name__} '
                             'dropped the sample')
        if out.get('flip', False):
            raise ValueError(
                f'RecordInputGeometry: {type(t).__name__} flipped the image; '
                'boxes cannot be mapped back through a flip')
        moved = np.asarray(out['gt_bboxes'], dtype=np.float64).reshape(-1, 4)
        after = moved[-1]
        if gt is None:
            out.pop('gt_bboxes')
        else:
            out['gt_bboxes'] = np.asarray(out['gt_bboxes'])[:num_gt]
        nh, nw = out['img'].shape[:2]
        before = probe[0]
        if np.allclose(after, before, atol=_ATOL) and (nh, nw) != (h, w):
            resized = ('scale_factor' in out and
                       not np.array_equal(out['scale_factor'], scale0))
            padded = (nh >= h and nw >= w
                      and np.array_equal(out['img'][:h, :w], img0))
            if resized:  # a resize that ignores boxes (e.g. ResizeEdge)
                s = np.array([nw / w, nh / h])
            elif padded:  # pixels added at the bottom / right only
                s = np.ones(2)
            else:
                raise ValueError(
                    f'RecordInputGeometry: {type(t).__name__} changed the '
                    f'image from {w}x{h} to {nw}x{nh} without moving boxes; '
                    'cannot tell where the input pixels come from')
            t_ = np.zeros(2)
        else:
            inside = (after[0] > _ATOL and after[1] > _ATOL
                      and after[2] < nw - _ATOL and after[3] < nh - _ATOL)
            if not inside:
                raise ValueError(
                    f'RecordInputGeometry: {type(t).__name__} cut into the '
                    'central eighth of the image; cannot map boxes back '
                    '(a centre crop must keep an eighth of each side)')
            s = np.array([(after[2] - after[0]) / (before[2] - before[0]),
                          (after[3] - after[1]) / (before[3] - before[1])])
            t_ = np.array([after[0], after[1]]) - s * before[:2]
        # x_new = s * x_cur + t  =>  x_cur = (x_new - t) / s
        return out, a / s, b - a * t_ / s

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r})'


def boxes_to_original(boxes: Union[torch.Tensor, np.ndarray, Sequence],
                      metainfo: dict,
                      clip: bool = True) -> np.ndarray:
    """Map (N, 4) ``x1, y1, x2, y2`` boxes from network-input pixels to the
    original image: ``x_ori = (x_in + o_x) / s_x`` with ``input_scale`` and
    ``input_offset`` of ``metainfo``; clipped to ``ori_shape`` (h, w) when
    ``clip`` and it is known."""
    for key in ('input_scale', 'input_offset'):
        if key not in metainfo:
            raise KeyError(
                f'boxes_to_original: the metainfo has no {key!r}; run the '
                'pipeline inside RecordInputGeometry (FGVCInferencer does)')
    if isinstance(boxes, torch.Tensor):
        boxes = boxes.detach().cpu().numpy()
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    sx, sy = metainfo['input_scale']
    ox, oy = metainfo['input_offset']
    out = (boxes + np.array([ox, oy, ox, oy])) / np.array([sx, sy, sx, sy])
    ori_shape: List[int] = metainfo.get('ori_shape')
    if clip and ori_shape is not None:
        h, w = ori_shape[:2]
        out[:, 0::2] = out[:, 0::2].clip(0, w)
        out[:, 1::2] = out[:, 1::2].clip(0, h)
    return out

"""The ground-truth box jittered to a target IoU: a box of known quality for
the box-source ablation."""
import zlib
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from torch import Tensor
from torchvision.ops import box_iou

from ...utils.checks import check_float, check_int
from .ground_truth_box_localizer import ground_truth_boxes, sample_name


def _iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of row i of ``a`` with row i of ``b``."""
    return box_iou(a, b).diagonal()


def jitter_boxes(gts: Tensor, img_w: float, img_h: float, target: float,
                 generators: Sequence[torch.Generator], tries: int = 64,
                 steps: int = 60) -> Tensor:
    """Boxes inside ``[0, img_w] x [0, img_h]`` whose IoU with ``gts``
    (N, 4) float64, each with positive area) is ``target`` from below, to
    within the bisection's resolution.

    For box i a random direction ``u`` (unit 3-vector from
    ``generators[i]``) moves the box along ``t >= 0``: centre ``+ t * (u0 *
    w, u1 * h)``, both sides ``* exp(t * u2)``, then clipped to the image.
    The IoU is continuous in ``t`` and 1 at ``t = 0``; ``t`` doubles until
    the IoU is at most the target and ``steps`` bisection steps find the
    crossing. A direction whose IoU never gets there (a growing box clipped
    to an image the GT nearly fills) is replaced by the generator's next
    direction; a box still unresolved after ``tries`` directions is NaN.
    Each box depends only on its GT and its own generator.
    """
    x1, y1, x2, y2 = gts.unbind(1)
    size = torch.stack([x2 - x1, y2 - y1], 1)
    centre = torch.stack([x1 + x2, y1 + y2], 1) / 2
    limits = gts.new_tensor([img_w, img_h, img_w, img_h])

    def moved(t: Tensor, u: Tensor) -> Tensor:
        t = t.unsqueeze(1)
        scale = (t * u[:, 2:]).clamp(-50., 50.).exp()
        mid = centre + t * u[:, :2] * size
        half = size * scale / 2
        box = torch.cat([mid - half, mid + half], 1)
        return torch.minimum(box.clamp(min=0.), limits)

    result = torch.full_like(gts, float('nan'))
    todo = torch.ones(len(gts), dtype=torch.bool)
    for _ in range(tries):
        u = torch.stack([
            torch.randn(3, generator=g, dtype=torch.float64)
            for g in generators
        ])
        u = u / u.norm(dim=1, keepdim=True).clamp(min=1e-12)
        hi = torch.ones(len(gts), dtype=torch.float64)
        for _ in range(10):  # t up to 1024
            hi = torch.where(_iou(moved(hi, u), gts) > target, 2 * hi, hi)
        ok = todo & (_iou(moved(hi, u), gts) <= target)
        lo = torch.zeros_like(hi)
        for _ in range(steps):
            mid = (lo + hi) / 2
            above = _iou(moved(mid, u), gts) > target
            lo, hi = torch.where(above, mid, lo), torch.where(above, hi, mid)
        result[ok] = moved(hi, u)[ok]
        todo &= ~ok
        if not bool(todo.any()):
            break
    return result


@MODELS.register_module()
class JitteredBoxLocalizer(nn.Module):
    """The ground-truth box moved and rescaled to a target IoU with it.

    The box source of known quality for the box-source ablation: with the
    default ``target_iou=0.5`` every box is exactly at the CorLoc
    threshold. Like :class:`GroundTruthBoxLocalizer` it reads the
    ground-truth box (first ``gt_bboxes`` row, network-input pixels; the GT
    is first clipped to the input) at test time too, so it is an upper-
    bound style ablation, not a method.

    The jittered box lies inside the input and its IoU with the (clipped)
    GT is ``target_iou`` to within ``TOLERANCE`` (see :func:`jitter_boxes`).
    It is deterministic per sample: the random direction comes from a
    generator seeded by ``seed`` and the sample's ``sample_idx`` (packed by
    ``PackInputs`` by default), else its ``img_path``, else its position in
    the batch (then only deterministic for a fixed batch order). The same
    sample gets the same jitter direction every epoch; the box follows the
    GT through the pipeline's random crops and flips.

    Args:
        target_iou (float): IoU with the GT, in (0, 1]. Defaults to 0.5;
            1 returns the GT itself.
        seed (int): Seed of the per-sample generators. Defaults to 0.
    """

    in_index = None
    TOLERANCE = 1e-3

    def __init__(self, target_iou: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        owner = 'JitteredBoxLocalizer'
        self.target_iou = check_float('target_iou', target_iou, 0., 1.,
                                      strict_min=True, owner=owner)
        self.seed = check_int('seed', seed, 0, owner)

    def _generator(self, sample, index: int) -> torch.Generator:
        meta = getattr(sample, 'metainfo', {}) or {}
        key = meta.get('sample_idx', None)
        if key is None:
            key = meta.get('img_path', None)
        if key is None:
            key = f'batch position {index}'
        seed = zlib.crc32(f'{self.seed}:{key!r}'.encode())
        return torch.Generator().manual_seed(seed)

    def forward(self,
                feat: Optional[Tensor],
                img_shape: Sequence[int],
                prev_feat: Optional[Tensor] = None,
                data_samples: Optional[List] = None) -> Tensor:
        """Boxes (N, 4) float32; N is the number of data samples."""
        owner = type(self).__name__
        num = len(data_samples) if data_samples is not None else (
            0 if feat is None else feat.shape[0])
        gts = ground_truth_boxes(data_samples, num, owner)
        img_h, img_w = (float(s) for s in img_shape)
        limits = torch.tensor([img_w, img_h, img_w, img_h])
        gts_clipped = torch.minimum(gts.double().cpu().clamp(min=0), limits)
        area = (gts_clipped[:, 2:] - gts_clipped[:, :2]).clamp(min=0).prod(1)
        for i in (area <= 0).nonzero().flatten().tolist():
            raise ValueError(
                f'{owner}: the ground-truth box of '
                f'{sample_name(data_samples[i], i)} has no area inside '
                f'the {img_w:g}x{img_h:g} input: {gts[i].tolist()}')
        boxes = gts_clipped
        if self.target_iou < 1:
            boxes = jitter_boxes(
                gts_clipped, img_w, img_h, self.target_iou,
                [self._generator(s, i) for i, s in enumerate(data_samples)])
        for i in boxes.isnan().any(1).nonzero().flatten().tolist():
            # never seen: shrinking inside the GT always reaches the target
            raise RuntimeError(
                f'{owner}: found no box at IoU {self.target_iou} for '
                f'{sample_name(data_samples[i], i)}')
        return boxes.to(device=gts.device, dtype=torch.float32)

    def extra_repr(self) -> str:
        return f'target_iou={self.target_iou}, seed={self.seed}'


__all__ = ['JitteredBoxLocalizer', 'jitter_boxes']

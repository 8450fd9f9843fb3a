"""Localization quality of predicted boxes: mean IoU and CorLoc."""
import logging
from typing import Any, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.registry import METRICS
from torchvision.ops import box_iou

from ...utils.checks import check_float


def _as_boxes(value: Any) -> Optional[torch.Tensor]:
    """(K, 4) float tensor, or None when absent or empty."""
    if value is None:
        return None
    boxes = torch.as_tensor(np.asarray(value) if not isinstance(
        value, torch.Tensor) else value).detach().float().cpu().reshape(-1, 4)
    return boxes if len(boxes) else None


@METRICS.register_module()
class LocalizationMetric(BaseMetric):
    """Mean IoU and CorLoc of ``pred_bboxes`` against ``gt_bboxes``.

    CorLoc (Deselaers et al. 2012) is the fraction of images whose predicted
    box overlaps a ground-truth box with IoU >= ``iou_thr``. Both boxes are
    ``x1, y1, x2, y2`` in the same (network input) pixels; the first
    predicted box of an image is scored against its best-overlapping
    ground-truth box. Only images where both boxes are present count; when
    none are, the metric returns ``{}`` and warns once. Values are in
    percent, like MMPretrain's ``Accuracy``; keys ``localization/mIoU``,
    ``localization/CorLoc``.

    Args:
        iou_thr (float): IoU threshold of CorLoc, in (0, 1]. Defaults to 0.5.
        collect_device (str): As in :class:`BaseMetric`.
        prefix (str, optional): Defaults to ``'localization'``.
    """

    default_prefix = 'localization'

    def __init__(self,
                 iou_thr: float = 0.5,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        # in (0, 1]
        self.iou_thr = check_float('iou_thr', iou_thr, 0.0, 1.0,
                                   strict_min=True, owner='LocalizationMetric')
        self._warned = False

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """One result per sample (NaN IoU where a box is missing), so that
        distributed collection drops padded samples correctly."""
        for sample in data_samples:
            pred = _as_boxes(sample.get('pred_bboxes'))
            gt = _as_boxes(sample.get('gt_bboxes'))
            iou = float('nan')
            if pred is not None and gt is not None:
                iou = float(box_iou(pred[:1], gt).max())
            self.results.append(dict(iou=iou))

    def compute_metrics(self, results: List[dict]) -> dict:
        ious = torch.tensor([r['iou'] for r in results], dtype=torch.float64)
        ious = ious[~torch.isnan(ious)]
        if len(ious) == 0:
            if not self._warned:
                print_log(
                    'LocalizationMetric: no sample has both `pred_bboxes` '
                    'and `gt_bboxes`; nothing reported (does the pipeline '
                    "pack `gt_bboxes`, e.g. PackInputs(algorithm_keys="
                    "['gt_bboxes']), and does the model predict boxes?)",
                    logger='current',
                    level=logging.WARNING)
                self._warned = True
            return {}
        return {
            'mIoU': float(ious.mean() * 100),
            'CorLoc': float((ious >= self.iou_thr).double().mean() * 100),
        }

"""Ground-truth box as the object box: the upper bound of the box-source
ablation."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from torch import Tensor


def sample_name(sample, index: int) -> str:
    """How an error names a sample: its ``img_path`` or ``sample_idx`` (if
    packed), and its position in the batch."""
    meta = getattr(sample, 'metainfo', {}) or {}
    for key in ('img_path', 'sample_idx'):
        if meta.get(key, None) is not None:
            return f'sample {index} of the batch ({key}={meta[key]!r})'
    return f'sample {index} of the batch'


def ground_truth_boxes(data_samples: Optional[List], num: int,
                       owner: str) -> Tensor:
    """The first ``gt_bboxes`` row of each sample, (N, 4) float32, as
    :class:`PackInputsWithBoxes` packs it (``x1, y1, x2, y2`` in network-
    input pixels).

    Raises:
        ValueError: no data samples, a different count than the batch, or a
            sample without a ground-truth box (the error names the sample).
    """
    if data_samples is None:
        raise ValueError(
            f'{owner}: needs the data samples with their `gt_bboxes` (it '
            'reads the ground-truth box), but the model was called without '
            'data samples (tensor mode, ONNX export, extract_feat)')
    if len(data_samples) != num:
        raise ValueError(f'{owner}: {len(data_samples)} data samples for a '
                         f'batch of {num} images')
    boxes = []
    for i, sample in enumerate(data_samples):
        gt = sample.get('gt_bboxes', None) if hasattr(sample, 'get') else None
        if gt is not None:
            gt = torch.as_tensor(gt, dtype=torch.float32).reshape(-1, 4)
        if gt is None or len(gt) == 0:
            raise ValueError(
                f'{owner}: {sample_name(sample, i)} has no ground-truth box '
                '(`gt_bboxes`); the data set must provide boxes (CUB does) '
                'and the pipeline must pack them (PackInputsWithBoxes)')
        boxes.append(gt[0])
    return torch.stack(boxes)


@MODELS.register_module()
class GroundTruthBoxLocalizer(nn.Module):
    """Returns each sample's ground-truth box, in training AND at test time.

    An upper bound for the box source of :class:`TwoBranchClassifier` (the
    box-source ablation), not a method: at test time it reads the labels'
    boxes, which a real classifier never sees. The box is the first row of
    the sample's ``gt_bboxes`` as :class:`PackInputsWithBoxes` packs it, in
    network-input pixels (the pipeline's resize / crop / flip already moved
    it). It reads no feature map (``in_index = None``).
    """

    in_index = None

    def forward(self,
                feat: Optional[Tensor],
                img_shape: Sequence[int],
                prev_feat: Optional[Tensor] = None,
                data_samples: Optional[List] = None) -> Tensor:
        """Boxes (N, 4) float32; N is the number of data samples."""
        num = len(data_samples) if data_samples is not None else (
            0 if feat is None else feat.shape[0])
        return ground_truth_boxes(data_samples, num,
                                  type(self).__name__)


__all__ = ['GroundTruthBoxLocalizer', 'ground_truth_boxes', 'sample_name']

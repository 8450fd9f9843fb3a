"""Pairwise Confusion (PC), Dubey et al., ECCV 2018 (thesis eq. 36).

For a pair of samples (x_1, y_1), (x_2, y_2) with predicted distributions
``p_1, p_2``::

    L_pair = CE(p_1, y_1) + CE(p_2, y_2) + lambda * gamma(y_1, y_2) * D_EC(p_1, p_2)

``gamma = 1`` if ``y_1 != y_2`` else 0 and the Euclidean Confusion
``D_EC = ||p_1 - p_2||_2^2``. As in the paper's Algorithm 1 and the released
code (github.com/abhimanyudubey/confusion, ``PairwiseConfusion``), the batch's
first half is paired with its second half, and the batch loss is the sum of
``L_pair`` divided by the batch size N::

    L = mean_i CE_i + lambda / N * sum_pairs gamma * D_EC

Options reproduce the released code, which uses the (unsquared) L2 norm and
no label condition: ``squared=False, only_different_labels=False``. An odd
last sample is left unpaired (its cross-entropy still counts).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from ...utils.checks import check_bool, check_float


@MODELS.register_module()
class PairwiseConfusionLoss(nn.Module):
    """Cross-entropy + lambda * Euclidean Confusion of paired samples.

    Drop-in ``loss`` for :class:`LinearClsHead` (same call signature as
    MMPretrain's ``CrossEntropyLoss`` for hard labels).

    Args:
        confusion_weight (float): ``lambda``. Defaults to 10.0 (our choice;
            Dubey et al. tune it per dataset).
        squared (bool): ``D_EC`` squared (paper) or not (released code).
            Defaults to True.
        only_different_labels (bool): Apply ``gamma`` (paper). Defaults to
            True.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.
    """

    def __init__(self,
                 confusion_weight: float = 10.0,
                 squared: bool = True,
                 only_different_labels: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        owner = 'PairwiseConfusionLoss'
        self.confusion_weight = check_float('confusion_weight',
                                            confusion_weight, 0.0, owner=owner)
        self.squared = check_bool('squared', squared, owner)
        self.only_different_labels = check_bool(
            'only_different_labels', only_different_labels, owner)
        self.loss_weight = check_float('loss_weight', loss_weight, 0.0,
                                       owner=owner)

    def confusion(self, cls_score: torch.Tensor,
                  label: torch.Tensor) -> torch.Tensor:
        """``1/N * sum_pairs gamma * D_EC`` (0 for a batch of one)."""
        n = cls_score.size(0)
        half = n // 2
        if half == 0:
            return cls_score.sum() * 0.0
        prob = F.softmax(cls_score, dim=1)
        left, right = prob[:half], prob[half:2 * half]
        diff2 = (left - right).pow(2).sum(dim=1)
        dist = diff2 if self.squared else diff2.clamp_min(1e-12).sqrt()
        if self.only_different_labels:
            dist = dist * (label[:half] != label[half:2 * half]).to(dist.dtype)
        return dist.sum() / n

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[int] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        if label.dim() != 1:
            raise ValueError('PairwiseConfusionLoss needs hard (N,) labels, '
                             f'got shape {tuple(label.shape)}')
        if reduction_override not in (None, 'mean'):
            raise ValueError('PairwiseConfusionLoss only supports mean '
                             f'reduction, got {reduction_override!r}')
        ce = F.cross_entropy(cls_score, label, reduction='none')
        if weight is not None:
            ce = ce * weight.float()
        ce = ce.sum() / (avg_factor if avg_factor is not None else ce.numel())
        loss = ce + self.confusion_weight * self.confusion(cls_score, label)
        return self.loss_weight * loss

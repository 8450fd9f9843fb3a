"""Center loss, Wen et al., ECCV 2016 (thesis eq. 42).

``L_C = 1/2 * sum_i ||x_i - c_{y_i}||^2``, added to the softmax loss with a
weight ``lambda``: ``L = L_S + lambda * L_C``. Wen et al. sum both terms over
the mini-batch; MMPretrain averages ``L_S`` over the batch, so we average
``L_C`` too, which keeps the ratio and hence ``lambda`` (0.003 in the paper)
unchanged.

Centres are not learned by SGD. As in the paper (eq. 4, Algorithm 1) they
are buffers updated after each training forward pass with rate ``alpha``::

    delta_c_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)
    c_j <- c_j - alpha * delta_c_j

(vectorised with ``index_add``; the features are detached for the update).
Under distributed training the per-class sums and counts are all-reduced
first, so every process applies the same update and the centres stay equal.
They start at zero and are saved in checkpoints (persistent buffer).
"""
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from mmpretrain.registry import MODELS

from ...utils.checks import check_float, check_int


@MODELS.register_module()
class CenterLoss(nn.Module):
    """``loss_weight * 1/2 * mean_i ||x_i - c_{y_i}||^2`` with paper updates.

    Args:
        num_classes (int): Number of classes.
        feat_dim (int): Feature dimension.
        loss_weight (float): ``lambda``. Defaults to 0.003 (Wen et al.).
        alpha (float): Centre update rate in [0, 1]. Defaults to 0.5.
    """

    def __init__(self,
                 num_classes: int,
                 feat_dim: int,
                 loss_weight: float = 0.003,
                 alpha: float = 0.5) -> None:
        super().__init__()
        owner = 'CenterLoss'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.feat_dim = check_int('feat_dim', feat_dim, 1, owner)
        self.loss_weight = check_float('loss_weight', loss_weight, 0.0,
                                       owner=owner)
        self.alpha = check_float('alpha', alpha, 0.0, 1.0, owner=owner)
        self.register_buffer('centers', torch.zeros(num_classes, feat_dim))

    @torch.no_grad()
    def update_centers(self, feats: torch.Tensor,
                       target: torch.Tensor) -> None:
        """Wen et al.'s eq. 4 update (all-reduced when distributed)."""
        centers = self.centers
        diff = centers[target] - feats.detach().to(centers.dtype)
        sums = torch.zeros_like(centers).index_add_(0, target, diff)
        counts = torch.bincount(
            target, minlength=self.num_classes).to(centers.dtype)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(sums)
            dist.all_reduce(counts)
        centers -= self.alpha * sums / (1.0 + counts).unsqueeze(1)

    def forward(self,
                feats: torch.Tensor,
                target: torch.Tensor,
                update: Optional[bool] = None) -> torch.Tensor:
        """The weighted loss on (N, D) features; updates the centres
        afterwards when ``update`` (default: in training mode)."""
        if feats.dim() != 2 or feats.size(1) != self.feat_dim:
            raise ValueError(f'CenterLoss expects (N, {self.feat_dim}) '
                             f'features, got {tuple(feats.shape)}')
        loss = 0.5 * (feats - self.centers[target]).pow(2).sum(dim=1).mean()
        if self.training if update is None else update:
            self.update_centers(feats, target)
        return self.loss_weight * loss

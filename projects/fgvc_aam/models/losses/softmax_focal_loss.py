"""Softmax focal loss (Lin et al., ICCV 2017, the multi-class form).

    FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t),   p = softmax(logits),

``p_t`` the probability of the true class. ``gamma = 0`` and no ``alpha``
give softmax cross-entropy. For soft targets ``t`` (mixup / label
smoothing) the loss is ``-sum_k t_k (1 - p_k)^gamma log p_k``. This is the
classification form Table 8 compares; MMPretrain's ``FocalLoss`` is the
sigmoid (one-vs-all, detection) form with ``alpha = 0.25`` and stays
available under its own name.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

from ...utils.checks import check_choice, check_float


@MODELS.register_module()
class SoftmaxFocalLoss(nn.Module):
    """``-alpha_t (1 - p_t)^gamma log p_t`` on softmax probabilities.

    Args:
        gamma (float): Focusing parameter, ``>= 0``. Defaults to 2.0
            (Lin et al.).
        alpha (float | list[float], optional): Class weight ``alpha_t``: one
            number for every class or one per class. None: 1. Defaults to
            None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 gamma: float = 2.0,
                 alpha: Optional[Union[float, Sequence[float]]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        owner = 'SoftmaxFocalLoss'
        self.gamma = check_float('gamma', gamma, 0.0, owner=owner)
        self.reduction = check_choice('reduction', reduction,
                                      ('none', 'mean', 'sum'), owner)
        self.loss_weight = check_float('loss_weight', loss_weight,
                                       owner=owner)
        if alpha is not None and not isinstance(alpha, (list, tuple)):
            alpha = check_float('alpha', alpha, 0.0, owner=owner)
        elif alpha is not None:
            alpha = [check_float('alpha', a, 0.0, owner=owner) for a in alpha]
        self.alpha = alpha

    def _alpha(self, num_classes: int, ref: torch.Tensor) -> torch.Tensor:
        if self.alpha is None:
            return ref.new_ones(num_classes)
        if isinstance(self.alpha, float):
            return ref.new_full((num_classes, ), self.alpha)
        if len(self.alpha) != num_classes:
            raise ValueError(
                f'SoftmaxFocalLoss: `alpha` has {len(self.alpha)} values '
                f'for {num_classes} classes')
        return ref.new_tensor(self.alpha)

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[int] = None,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        """Loss of logits ``pred`` (N, K) against class indices (N,) or
        (N, 1), or soft / one-hot targets (N, K)."""
        if reduction_override not in (None, 'none', 'mean', 'sum'):
            raise ValueError('SoftmaxFocalLoss: bad `reduction_override` '
                             f'{reduction_override!r}')
        reduction = reduction_override or self.reduction
        if pred.dim() != 2:
            raise ValueError('SoftmaxFocalLoss expects (N, K) logits, got '
                             f'shape {tuple(pred.shape)}')
        num_classes = pred.size(1)
        if target.dim() == 2 and target.size(1) == 1:
            target = target.view(-1)
        if target.dim() == 1:
            target = F.one_hot(target.long(), num_classes)
        if target.shape != pred.shape:
            raise ValueError(
                f'SoftmaxFocalLoss: target shape {tuple(target.shape)} does '
                f'not match logits {tuple(pred.shape)}')
        target = target.to(pred.dtype)
        log_p = F.log_softmax(pred, dim=1)
        # clamped: d/dx x^gamma is unbounded at x = 0 for gamma < 1, and a
        # saturated softmax (p_t = 1) would give 0 * inf = NaN gradients;
        # the clamp passes no gradient there, which is the true limit (0)
        focal = (1.0 - log_p.exp()).clamp_min(
            torch.finfo(pred.dtype).tiny).pow(self.gamma)
        alpha = self._alpha(num_classes, pred)
        loss = -(target * alpha * focal * log_p).sum(dim=1)
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss

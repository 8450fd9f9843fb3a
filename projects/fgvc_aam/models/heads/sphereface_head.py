"""A-Softmax (SphereFace) head, Liu et al., CVPR 2017 (thesis eqs. 43-45).

Class weights are L2-normalised, biases are zero and features keep their
norm. The target logit uses a multiplicative angular margin ``m``::

    f_y   = ||x|| * psi(theta_y),   f_j = ||x|| * cos(theta_j)  (j != y)
    psi(theta) = (-1)^k cos(m * theta) - 2k,  theta in [k pi/m, (k+1) pi/m]

``cos(m theta)`` is the Chebyshev polynomial ``T_m(cos theta)`` (no acos in
the gradient); ``k`` comes from ``acos`` without gradient.

Annealing (the official Caffe ``MarginInnerProduct`` layer of
github.com/wy1iu/sphereface; its prototxt ``margin_inner_product_param``
``type: QUADRUPLE, base: 1000, gamma: 0.12, power: 1, lambda_min: 5``, Xavier
weights): during training the target logit is
``(lambda * ||x|| cos(theta_y) + ||x|| psi(theta_y)) / (1 + lambda)`` with
``lambda = max(lambda_min, base * (1 + gamma * it) ^ (-power))`` and ``it``
the number of training steps so far (a persistent buffer, so it survives
``--resume``). Defaults ``base = 1000, gamma = 0.12, power = 1,
lambda_min = 5`` are the official ones for ``m = 4``. ``base = 0`` and
``lambda_min = 0`` give the pure A-Softmax. With ``m = 1`` the loss is the
plain softmax cross-entropy of ``x . w_j / ||w_j||``.

Evaluation logits are ``||x|| cos(theta_j)``.
"""
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checks import check_bool, check_float, check_int
from .margin_head import MarginHead, TopkType, check_topk, cosine


def chebyshev_cos_m(cos: torch.Tensor, m: int) -> torch.Tensor:
    """``cos(m * theta)`` from ``cos(theta)`` by the recursion
    ``T_{n+1} = 2 c T_n - T_{n-1}``."""
    prev, cur = torch.ones_like(cos), cos
    if m == 0:
        return prev
    for _ in range(m - 1):
        prev, cur = cur, 2 * cos * cur - prev
    return cur


def a_softmax_psi(cos: torch.Tensor, m: int) -> torch.Tensor:
    """``psi(theta) = (-1)^k cos(m theta) - 2k`` (monotonic in theta)."""
    with torch.no_grad():
        theta = torch.acos(cos.clamp(-1.0, 1.0))
        k = torch.floor(m * theta / math.pi).clamp(0, m - 1)
        sign = 1.0 - 2.0 * torch.remainder(k, 2)
    return sign * chebyshev_cos_m(cos, m) - 2.0 * k


@MODELS.register_module()
class SphereFaceHead(MarginHead):
    """A-Softmax classifier head with the official lambda annealing.

    A :class:`~.margin_head.MarginHead` whose :meth:`target_score` is the
    annealed ``(lam cos + psi_m) / (1 + lam)``; :meth:`loss` is the
    family's, and then counts the training step for the annealing. No
    ``scale``: the logits are scaled by the feature norm ``||x||``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        margin (int): Integer angular margin ``m >= 1``. Defaults to 4.
        lambda_base (float): Defaults to 1000.
        lambda_gamma (float): Defaults to 0.12.
        lambda_power (float): Defaults to 1.
        lambda_min (float): Defaults to 5.
        loss (dict): Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy (see
            :meth:`~.margin_head.MarginHead.loss`). Defaults to False.
        init_cfg (dict, optional): Initialisation config (the weight is
            Xavier initialised at construction, as the official prototxt).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 margin: int = 4,
                 lambda_base: float = 1000.0,
                 lambda_gamma: float = 0.12,
                 lambda_power: float = 1.0,
                 lambda_min: float = 5.0,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        owner = 'SphereFaceHead'
        super().__init__(
            loss=loss,
            topk=check_topk(topk, owner),
            cal_acc=check_bool('cal_acc', cal_acc, owner),
            init_cfg=init_cfg)
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.margin = check_int('margin', margin, 1, owner)
        self.lambda_base = check_float('lambda_base', lambda_base, 0.0,
                                       owner=owner)
        self.lambda_gamma = check_float('lambda_gamma', lambda_gamma, 0.0,
                                        owner=owner)
        self.lambda_power = check_float('lambda_power', lambda_power, 0.0,
                                        owner=owner)
        self.lambda_min = check_float('lambda_min', lambda_min, 0.0,
                                      owner=owner)
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.xavier_uniform_(self.weight)
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))

    def current_lambda(self) -> torch.Tensor:
        """The annealing weight for the current iteration (a 0-dim tensor on
        the head's device: no host synchronisation)."""
        it = self.iteration.to(self.weight.dtype)
        value = self.lambda_base * (1.0 + self.lambda_gamma * it) ** (
            -self.lambda_power)
        return value.clamp_min(self.lambda_min)

    @property
    def class_weight(self) -> torch.Tensor:
        return self.weight

    @staticmethod
    def _unit_and_norm(x: torch.Tensor):
        """``x / max|x_i|`` and ``||x||``.

        Dividing by max|x_i| first (detached; exact gradients since the norm
        is 1-homogeneous and the direction 0-homogeneous) avoids ``||x||^2``
        overflowing float32 from ``||x|| ~ 1.8e19`` (inf * 0 = NaN).
        """
        scale = x.detach().abs().amax(dim=1, keepdim=True).clamp_min(
            torch.finfo(x.dtype).tiny)
        unit = x / scale
        return unit, unit.norm(dim=1, keepdim=True) * scale

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``cos(theta_j)``."""
        return cosine(self._unit_and_norm(x)[0], self.weight)

    def logit_scale(self, x: torch.Tensor) -> torch.Tensor:
        """``||x||``: features keep their norm."""
        return self._unit_and_norm(x)[1]

    def target_score(
            self,
            score_y: torch.Tensor,
            target: torch.Tensor,
            lam: Optional[Union[float, torch.Tensor]] = None) -> torch.Tensor:
        """The annealed ``(lam * cos + psi) / (1 + lam)`` of the target.

        ``lam`` defaults to :meth:`current_lambda` (the training schedule);
        ``lam = 0`` gives the pure A-Softmax ``psi``.
        """
        if lam is None:
            lam = self.current_lambda()
        return (lam * score_y + a_softmax_psi(score_y, self.margin)) / (
            1.0 + lam)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The family's loss at the current lambda; a training call then
        counts one iteration of the annealing."""
        losses = super().loss(feats, data_samples, **kwargs)
        if self.training:
            self.iteration += 1
        return losses

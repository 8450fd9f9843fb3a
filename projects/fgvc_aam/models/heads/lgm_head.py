"""Large-margin Gaussian Mixture (L-GM) loss head, Wan et al., CVPR 2018.

"Rethinking Feature Distribution for Loss Functions in Image
Classification". Features follow a Gaussian mixture with learnable means
``mu_k``, identity covariances and equal priors (the released TensorFlow
``lgm_logits``, github.com/WeitaoVan/L-GM-loss, read). With
``d_k = 1/2 ||x - mu_k||^2``::

    logits_k = -d_k * (1 + alpha * [k == y])      (margin on the target)
    L_cls = cross-entropy(logits)
    L_lkd = mean_i d_{y_i}                         (likelihood regulariser)
    L_GM  = L_cls + lambda * L_lkd

Defaults ``alpha = 0.1``, ``lambda = 0.01`` are the released code's. The
terms are logged as ``loss_cls`` and ``loss_lkd``. Evaluation logits are
``-d_k`` (no margin). Deviation: the released code uses the batch size N
for the mean in L_lkd, as we do; the paper allows learnable covariances,
which we do not implement (identity, as the released code).
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .._checks import check_float, check_int, labels_of


@MODELS.register_module()
class LGMHead(ClsHead):
    """L-GM classification head.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        alpha (float): Margin ``alpha >= 0``. Defaults to 0.1.
        lambda_lkd (float): Weight of the likelihood term. Defaults to 0.01.
        loss (dict): Classification loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Initialisation config (means are Xavier
            initialised at construction, as the released code).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 alpha: float = 0.1,
                 lambda_lkd: float = 0.01,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        owner = 'LGMHead'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.alpha = check_float('alpha', alpha, 0.0, owner=owner)
        self.lambda_lkd = check_float('lambda_lkd', lambda_lkd, 0.0,
                                      owner=owner)
        self.means = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.xavier_uniform_(self.means)

    def half_sq_dist(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``d_k = 1/2 ||x - mu_k||^2``, (N, K)."""
        x = self.pre_logits(feats)
        if x.dim() != 2:
            raise ValueError('LGMHead needs (N, C) features (use a GAP '
                             f'neck), got {tuple(x.shape)}')
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float()
            xx = x.pow(2).sum(dim=1, keepdim=True)
            mm = self.means.pow(2).sum(dim=1)
            d = 0.5 * (xx - 2.0 * x @ self.means.t() + mm)
        return d.clamp_min(0.0)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``-d_k`` (no margin)."""
        return -self.half_sq_dist(feats)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """``loss_cls`` (with margin) + ``loss_lkd``."""
        target = labels_of(data_samples, 'LGMHead')
        d = self.half_sq_dist(feats)
        d_y = d.gather(1, target.view(-1, 1))
        logits = (-d).scatter(1, target.view(-1, 1), -d_y * (1 + self.alpha))
        return dict(
            loss_cls=self.loss_module(
                logits, target, avg_factor=logits.size(0), **kwargs),
            loss_lkd=self.lambda_lkd * d_y.mean())

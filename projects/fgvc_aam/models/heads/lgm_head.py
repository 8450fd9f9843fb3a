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

The paper's margin ``alpha`` is the head's ``margin`` (``alpha`` is its
deprecated name); there is no scale. Defaults ``alpha = 0.1``,
``lambda = 0.01`` are the released code's. The terms are logged as
``loss_cls`` (the family's margin loss) and ``loss_lkd``. Evaluation logits are
``-d_k`` (no margin). Deviation: the released code uses the batch size N
for the mean in L_lkd, as we do; the paper allows learnable covariances,
which we do not implement (identity, as the released code).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checks import check_bool, check_float, check_int, labels_of
from ...utils.deprecation import renamed_arguments
from .margin_head import MarginHead, TopkType, check_topk


@MODELS.register_module()
class LGMHead(MarginHead):
    """L-GM classification head.

    A :class:`~.margin_head.MarginHead` with ``g_k = -d_k``, ``s = 1`` (no
    ``scale``) and the target logit ``-(1 + margin) d_y``; :meth:`loss` adds
    the likelihood term to the family's loss.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        margin (float): The paper's ``alpha >= 0``. Defaults to 0.1.
            ``alpha`` is its deprecated name.
        lambda_lkd (float): Weight of the likelihood term. Defaults to 0.01.
        loss (dict): Classification loss. Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy (see
            :meth:`~.margin_head.MarginHead.loss`). Defaults to False.
        init_cfg (dict, optional): Initialisation config (means are Xavier
            initialised at construction, as the released code).
    """

    @renamed_arguments(alpha='margin')
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 margin: float = 0.1,
                 lambda_lkd: float = 0.01,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        owner = 'LGMHead'
        super().__init__(
            loss=loss,
            topk=check_topk(topk, owner),
            cal_acc=check_bool('cal_acc', cal_acc, owner),
            init_cfg=init_cfg)
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.margin = check_float('margin', margin, 0.0, owner=owner)
        self.lambda_lkd = check_float('lambda_lkd', lambda_lkd, 0.0,
                                      owner=owner)
        self.means = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.xavier_uniform_(self.means)

    @property
    def class_weight(self) -> torch.Tensor:
        return self.means

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``-d_k = -1/2 ||x - mu_k||^2``, (N, K)."""
        xx = x.pow(2).sum(dim=1, keepdim=True)
        mm = self.means.pow(2).sum(dim=1)
        return -(0.5 * (xx - 2.0 * x @ self.means.t() + mm)).clamp_min(0.0)

    def target_score(self, score_y: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        """``-(1 + margin) d_y``."""
        return score_y * (1 + self.margin)

    def logit_scale(self, x: torch.Tensor) -> float:
        """1: distances are not scaled."""
        return 1.0

    def half_sq_dist(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``d_k = 1/2 ||x - mu_k||^2``, (N, K)."""
        return -self(feats)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_cls`` (the family's loss, with the margin) + ``loss_lkd``
        (``lambda_lkd`` times the batch mean of ``d_y``)."""
        losses = super().loss(feats, data_samples, **kwargs)
        label = labels_of(data_samples, 'LGMHead')
        # only the targets' distances: O(N C), not the (N, K) forward again
        x = self.pre_logits(feats)
        with torch.autocast(device_type=x.device.type, enabled=False):
            d_y = 0.5 * (x - self.means[label]).pow(2).sum(dim=1)
        return dict(
            loss_cls=losses.pop('loss'),
            loss_lkd=self.lambda_lkd * d_y.mean(),
            **losses)

"""LMCL / CosFace head, Wang et al., CVPR 2018 (large margin cosine loss).

``L = -log( e^{s (cos theta_y - m)} / (e^{s (cos theta_y - m)}
+ sum_{j != y} e^{s cos theta_j}) )`` with L2-normalised features and class
weights. Built on MMPretrain's :class:`ArcFaceClsHead` (its ``NormProduct``,
scale, per-class ``margins`` buffer and ``set_margins``, so margin hooks work
on it too); only the margin formula differs: additive on the cosine instead
of on the angle. Evaluation logits are ``s * cos(theta)``. With ``m = 0``
this is the normalised softmax (NormFace) cross-entropy.
"""
from typing import Optional, Tuple, Union

import torch
from mmpretrain.models.heads import ArcFaceClsHead
from mmpretrain.registry import MODELS

from .._checks import check_float, check_int


@MODELS.register_module()
class CosFaceHead(ArcFaceClsHead):
    """CosFace (LMCL) classifier head.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        scale (float): ``s``. Defaults to 64 (CosFace paper).
        margin (float): ``m`` in [0, 2). Defaults to 0.35 (CosFace paper).
        num_subcenters (int): Sub-centres per class (ArcFaceClsHead option).
            Defaults to 1.
        loss (dict): Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k accuracy. Defaults to ``(1, )``.
        cal_acc (bool): Accepted for symmetry with other heads; the
            training loss of ArcFaceClsHead reports no accuracy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 scale: float = 64.0,
                 margin: float = 0.35,
                 num_subcenters: int = 1,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Tuple[int]] = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        owner = 'CosFaceHead'
        check_int('num_classes', num_classes, 1, owner)
        check_int('in_channels', in_channels, 1, owner)
        check_int('num_subcenters', num_subcenters, 1, owner)
        scale = check_float('scale', scale, 0.0, strict_min=True, owner=owner)
        margin = check_float('margin', margin, 0.0, owner=owner)
        if margin >= 2.0:
            raise ValueError(f'{owner}: `margin` must be < 2 (cosines lie in '
                             f'[-1, 1]), got {margin!r}')
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=scale,
            margins=margin,
            loss=loss,
            init_cfg=init_cfg)
        # ArcFaceClsHead does not forward these to ClsHead.
        self.topk = topk
        self.cal_acc = cal_acc

    def pre_logits(self, feats) -> torch.Tensor:
        """The last feature, in the dtype of the class weights (the parent
        disables autocast, so half-precision features would fail)."""
        x = super().pre_logits(feats)
        return x.to(self.norm_product.weight.dtype)

    def _get_logit_with_margin(self, pre_logits: torch.Tensor,
                               target: torch.Tensor) -> torch.Tensor:
        """``cos(theta_j) - m_j * [j == y]`` (scaled by ``s`` in forward)."""
        if pre_logits.dim() != 2:
            raise ValueError('CosFaceHead needs (N, C) features (use a GAP '
                             f'neck), got {tuple(pre_logits.shape)}')
        cosine = self.norm_product(pre_logits)
        # scatter, not F.one_hot: no device-to-host check of the labels.
        one_hot = torch.zeros_like(cosine).scatter_(1, target.view(-1, 1), 1.)
        return cosine - one_hot * self.margins

"""LMCL / CosFace head, Wang et al., CVPR 2018 (large margin cosine loss).

``L = -log( e^{s (cos theta_y - m)} / (e^{s (cos theta_y - m)}
+ sum_{j != y} e^{s cos theta_j}) )`` with L2-normalised features and class
weights. A :class:`~.margin_head.CosineMarginHead` (MMPretrain's
``NormProduct``, scale, a persistent per-class ``margins`` buffer and
``set_margins``, so margin hooks work on it and ``--resume`` restores the
margin); only the target logit differs: the margin is additive on the cosine
instead of on the angle. Evaluation logits are ``s * cos(theta)``. With
``m = 0`` this is the normalised softmax (NormFace) cross-entropy.
"""
from typing import Optional, Tuple, Union

import torch
from mmpretrain.registry import MODELS

from ...utils.checks import check_float
from .margin_head import CosineMarginHead


@MODELS.register_module()
class CosFaceHead(CosineMarginHead):
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

    #: cosines lie in [-1, 1]
    max_margin = 2.0
    max_margin_text = '2'

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
        margin = check_float('margin', margin, 0.0, owner='CosFaceHead')
        if margin >= self.max_margin:
            raise ValueError(f'CosFaceHead: `margin` must be < 2 (cosines lie '
                             f'in [-1, 1]), got {margin!r}')
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

    def target_score(self, score_y: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        """``cos(theta_y) - m_y``."""
        return score_y - self.margins[target]

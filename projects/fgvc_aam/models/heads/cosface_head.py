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
from typing import Optional, Sequence, Union

import torch
from mmpretrain.registry import MODELS

from .margin_head import DEFAULT_SCALE, CosineMarginHead, TopkType


@MODELS.register_module()
class CosFaceHead(CosineMarginHead):
    """CosFace (LMCL) classifier head.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        num_subcenters (int): Sub-centres per class (ArcFaceClsHead option).
            Defaults to 1.
        scale (float): ``s`` > 0. Defaults to the family's
            :data:`~.margin_head.DEFAULT_SCALE` (30), not the paper's 64:
            the paper's own bound ``s >= (C - 1) / C ln((C - 1) P / (1 -
            P))`` is 9.8 for 200 classes (64 was set for ~10^4 identities);
            the Table 8 configs write 64 explicitly.
        margin (float | Sequence[float] | str): ``m`` in ``[0, 2)`` (cosines
            lie in ``[-1, 1]``), one for every class, one per class, or a
            ``.txt`` file. Defaults to 0.35 (CosFace paper).
        loss (dict): Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy (see
            :meth:`~.margin_head.MarginHead.loss`). Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    #: cosines lie in [-1, 1]
    max_margin = 2.0
    max_margin_text = '2'

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_subcenters: int = 1,
                 scale: float = DEFAULT_SCALE,
                 margin: Union[float, Sequence[float], str] = 0.35,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=scale,
            margin=margin,
            loss=loss,
            topk=topk,
            cal_acc=cal_acc,
            init_cfg=init_cfg)

    def target_score(self, score_y: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        """``cos(theta_y) - m_y``."""
        return score_y - self.margins[target]

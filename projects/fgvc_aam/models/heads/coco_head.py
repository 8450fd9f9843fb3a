"""COCO (congenerous cosine) loss head, Liu, Li and Wang 2017.

"Rethinking Feature Discrimination and Polymerization for Large-scale
Recognition" / "Learning Deep Features via Congenerous Cosine Loss for
Person Recognition" (github.com/liuyuisanai/coco_loss, README read). Features
``f`` and learnable class centroids ``c_k`` are both L2-normalised and the
features are rescaled by ``alpha``::

    L = -1/N sum_i log( exp(alpha c^_{y_i} . f^_i)
                        / sum_k exp(alpha c^_k . f^_i) )

i.e. a softmax over scaled cosines to the centroids. The centroids are
parameters learned end to end (as in the released layer); the papers derive a
lower bound for ``alpha`` from the number of classes. ``scale`` is ``alpha``
(the released code also scales the centroids; only the product matters).
The papers fix no value: the default is the family's
:data:`~.margin_head.DEFAULT_SCALE` (30), whose class-count argument is the
same kind of bound; the Table 8 configs write their ``alpha = 16``
explicitly. Evaluation logits are the same scaled cosines.

The loss has no margin: the head takes no ``margin`` and keeps the
family's identity ``target_score``.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from ...utils.checks import check_bool, check_int
from .margin_head import (DEFAULT_SCALE, MarginHead, TopkType, check_scale,
                          check_topk, cosine)


@MODELS.register_module()
class COCOHead(MarginHead):
    """Scaled-cosine softmax to learnable normalised class centroids.

    A :class:`~.margin_head.MarginHead` without a margin: ``alpha cos``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        scale (float): ``alpha`` > 0. Defaults to the family's
            :data:`~.margin_head.DEFAULT_SCALE` (30).
        loss (dict): Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy (see
            :meth:`~.margin_head.MarginHead.loss`). Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 scale: float = DEFAULT_SCALE,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        owner = 'COCOHead'
        super().__init__(
            loss=loss,
            topk=check_topk(topk, owner),
            cal_acc=check_bool('cal_acc', cal_acc, owner),
            init_cfg=init_cfg)
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.scale = check_scale(scale, owner)
        self.centroids = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.xavier_uniform_(self.centroids)

    @property
    def class_weight(self) -> torch.Tensor:
        return self.centroids

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``cos(f, c_k)``, (N, K); ``forward`` scales by ``alpha``."""
        return cosine(x, self.centroids)

"""COCO (congenerous cosine) loss head, Liu, Li and Wang 2017.

"Rethinking Feature Discrimination and Polymerization for Large-scale
Recognition" / "Learning Deep Features via Congenerous Cosine Loss for
Person Recognition" (github.com/liuyuisanai/coco_loss, README read). Features
``f`` and learnable class centroids ``c_k`` are both L2-normalised and the
features are rescaled by ``alpha``::

    L = -1/N sum_i log( exp(alpha c^_{y_i} . f^_i) / sum_k exp(alpha c^_k . f^_i) )

i.e. a softmax over scaled cosines to the centroids. The centroids are
parameters learned end to end (as in the released layer); the papers derive a
lower bound for ``alpha`` from the number of classes. ``scale`` is ``alpha``
(the released code also scales the centroids; only the product matters).
Its default of 16 is our choice, not the paper's. Evaluation logits are the
same scaled cosines.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checks import check_float, check_int, labels_of
from .margin_head import MarginHead, cosine


@MODELS.register_module()
class COCOHead(MarginHead):
    """Scaled-cosine softmax to learnable normalised class centroids.

    A :class:`~.margin_head.MarginHead` without a margin: ``alpha cos``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        scale (float): ``alpha`` > 0. Defaults to 16.
        loss (dict): Defaults to cross-entropy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 scale: float = 16.0,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        owner = 'COCOHead'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.scale = check_float('scale', scale, 0.0, strict_min=True,
                                 owner=owner)
        self.centroids = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.xavier_uniform_(self.centroids)

    @property
    def class_weight(self) -> torch.Tensor:
        return self.centroids

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``cos(f, c_k)``, (N, K); ``forward`` scales by ``alpha``."""
        return cosine(x, self.centroids)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        labels_of(data_samples, 'COCOHead')
        return super().loss(feats, data_samples, **kwargs)  # no margin

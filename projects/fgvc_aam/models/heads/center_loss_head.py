"""Linear softmax head + Center loss (Wen et al. 2016, thesis eq. 42).

``L = L_softmax + lambda * 1/2 mean_i ||x_i - c_{y_i}||^2`` where ``x_i`` is
the feature fed to the linear classifier (the neck output, e.g. GAP). The
two terms are logged as ``loss_ce`` and ``loss_center``.
"""
from typing import Dict, List, Tuple

import torch
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checks import check_int, labels_of


@MODELS.register_module()
class CenterLossHead(LinearClsHead):
    """:class:`LinearClsHead` with an added :class:`CenterLoss`.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        center_loss (dict): Config of :class:`CenterLoss` without
            ``num_classes`` / ``feat_dim``. Defaults to ``lambda = 0.003``,
            ``alpha = 0.5`` (Wen et al.).
        **kwargs: Passed to :class:`LinearClsHead` (``loss``, ``topk``,
            ``cal_acc``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 center_loss: dict = dict(
                     type='CenterLoss', loss_weight=0.003, alpha=0.5),
                 **kwargs) -> None:
        owner = 'CenterLossHead'
        num_classes = check_int('num_classes', num_classes, 1, owner)
        in_channels = check_int('in_channels', in_channels, 1, owner)
        super().__init__(
            num_classes=num_classes, in_channels=in_channels, **kwargs)
        center_loss = dict(center_loss)
        shared = dict(num_classes=num_classes, feat_dim=in_channels)
        for key, value in shared.items():
            if center_loss.get(key, value) != value:
                raise ValueError(
                    f'{owner}: `center_loss.{key}`={center_loss[key]!r} '
                    f'disagrees with the head ({value})')
        center_loss.update(shared)
        self.center_loss = MODELS.build(center_loss)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_ce`` (softmax) + ``loss_center``."""
        target = labels_of(data_samples, 'CenterLossHead')
        pre_logits = self.pre_logits(feats)
        if pre_logits.dim() != 2:
            raise ValueError('CenterLossHead needs (N, C) features (use a '
                             'GlobalAveragePooling neck), got '
                             f'{tuple(pre_logits.shape)}')
        cls_score = self.fc(pre_logits)
        losses = dict(
            loss_ce=self.loss_module(
                cls_score, target, avg_factor=cls_score.size(0), **kwargs),
            loss_center=self.center_loss(pre_logits, target))
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses

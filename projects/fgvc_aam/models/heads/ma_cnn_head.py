"""MA-CNN head: channel grouping, part attention, part classification.

Zheng et al., "Learning Multi-Attention Convolutional Neural Network for
Fine-Grained Image Recognition", ICCV 2017 (seed 003 slides; thesis
related work). From the backbone's last feature map ``F`` (N, C, H, W):

1. Channel grouping (paper: one group of FC layers per part): the channel
   descriptor ``GAP(F)`` goes through, for each part ``i``, FC -> tanh -> FC
   -> sigmoid, giving channel weights ``d_i`` in (0, 1)^C.
2. Part attention: ``A_i = sum_j d_ij F_j / sum_j d_ij`` (a weighted mean of
   the channels), min-max normalised per map to ``M_i`` in [0, 1] (peak 1).
3. Part features: attention-weighted average pooling
   ``P_i = sum_xy F(x, y) M_i(x, y) / sum_xy M_i(x, y)`` (C each).
4. Classification: a softmax classifier per part (``loss_part``, the mean of
   the P cross-entropies) and one on the concatenation
   ``[P_1, ..., P_P (, GAP(F))]`` (``loss_cls``); the latter gives the
   predictions.
5. ``L_cng`` (:class:`ChannelGroupingLoss`, lambda = 2, margin = 0.02) on the
   maps: ``loss_dis`` and ``loss_div``.

The authors' release (Caffe models behind a OneDrive link of
github.com/Jianlong-Fu/Multi-Attention-CNN) holds no training code we could
read, so this follows the paper's equations as given in seed 003.

Simplifications (documented; the paper's details are not all recoverable):

- The paper initialises the grouping by clustering channel peak positions
  (k-means) and trains the grouping and the classifiers in alternation. We
  use a clustering-free learnable grouping trained end to end (the slides'
  option 2). To keep the alternation's intent (``L_cng`` shapes the grouping,
  not the convolutional features) ``L_cng`` is computed from ``F.detach()``
  by default (``detach_cng=True``), so it only trains the grouping FCs.
- The paper's map is ``sigmoid(sum_j d_ij F_j)``; a sum over hundreds of
  channels saturates the sigmoid, so we take the weighted channel mean and
  min-max normalise it. Part features are averages, not sums.
- The paper feeds the learned parts to a separate part-CNN on image crops
  for its final numbers; we classify pooled part features of the same
  backbone (no second network, no crops).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checks import (check_bool, check_float, check_int, feature_map,
                             labels_of)


@MODELS.register_module()
class MACNNHead(ClsHead):
    """Multi-attention (MA-CNN) head with part classification and L_cng.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels ``C`` of the last feature map.
        num_parts (int): Number of parts ``P``. Defaults to 4 (the paper's
            best setting; 2 also reported).
        hidden_channels (int, optional): Width of the first grouping FC per
            part. Defaults to ``in_channels // 4`` (a bottleneck; the paper's
            width is not given).
        with_global (bool): Append ``GAP(F)`` to the concatenated part
            features ("parts + object"). Defaults to True.
        part_loss_weight (float): Weight of ``loss_part``. Defaults to 1.0.
        cng_loss (dict): Config of :class:`ChannelGroupingLoss`.
        detach_cng (bool): Compute ``L_cng`` from detached features (see the
            module docstring). Defaults to True.
        loss (dict): Classification loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Defaults to Normal(std=0.01) on Linear.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_parts: int = 4,
                 hidden_channels: Optional[int] = None,
                 with_global: bool = True,
                 part_loss_weight: float = 1.0,
                 cng_loss: dict = dict(
                     type='ChannelGroupingLoss', div_weight=2.0,
                     margin=0.02),
                 detach_cng: bool = True,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer=['Linear', 'Conv1d'], std=0.01),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        owner = 'MACNNHead'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.in_channels = check_int('in_channels', in_channels, 1, owner)
        self.num_parts = check_int('num_parts', num_parts, 1, owner)
        if hidden_channels is None:
            hidden_channels = max(1, in_channels // 4)
        self.hidden_channels = check_int('hidden_channels', hidden_channels,
                                         1, owner)
        self.with_global = check_bool('with_global', with_global, owner)
        self.part_loss_weight = check_float('part_loss_weight',
                                            part_loss_weight, 0.0, owner=owner)
        self.detach_cng = check_bool('detach_cng', detach_cng, owner)
        p, c, k, hid = (self.num_parts, self.in_channels, self.num_classes,
                        self.hidden_channels)
        # P independent FC stacks, batched: a Linear to P*hid, then a grouped
        # 1x1 Conv1d (= P separate Linear(hid, C)).
        self.group_fc1 = nn.Linear(c, p * hid)
        self.group_fc2 = nn.Conv1d(p * hid, p * c, 1, groups=p)
        # One classifier per part (grouped 1x1 conv = P separate Linears).
        self.part_fc = nn.Conv1d(p * c, p * k, 1, groups=p)
        cat_channels = p * c + (c if self.with_global else 0)
        self.fc = nn.Linear(cat_channels, k)
        self.cng_loss = MODELS.build(cng_loss)

    def channel_weights(self, feat: torch.Tensor) -> torch.Tensor:
        """``d`` (N, P, C) in (0, 1) from the channel descriptor GAP(F)."""
        n = feat.size(0)
        desc = feat.mean(dim=(2, 3))
        hidden = torch.tanh(self.group_fc1(desc)).unsqueeze(-1)
        d = torch.sigmoid(self.group_fc2(hidden))
        return d.view(n, self.num_parts, self.in_channels)

    @staticmethod
    def attention_maps(feat: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """Min-max normalised weighted channel means, (N, P, H, W) in [0, 1]."""
        agg = torch.einsum('npc,nchw->nphw', d, feat)
        agg = agg / d.sum(dim=-1).clamp_min(1e-6)[..., None, None]
        low = agg.amin(dim=(-2, -1), keepdim=True)
        span = agg.amax(dim=(-2, -1), keepdim=True) - low
        # A constant map (e.g. 1x1 features) gets uniform attention.
        flat = span <= 1e-6
        maps = (agg - low) / torch.where(flat, torch.ones_like(span), span)
        return torch.where(flat, torch.ones_like(maps), maps)

    def _parts(self, feats: Tuple[torch.Tensor]):
        feat = feature_map(feats, 'MACNNHead')
        if feat.size(1) != self.in_channels:
            raise ValueError(f'MACNNHead: expected {self.in_channels} '
                             f'channels (`in_channels`), got {feat.size(1)}')
        maps = self.attention_maps(feat, self.channel_weights(feat))
        weights = maps / maps.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
        parts = torch.einsum('nphw,nchw->npc', weights, feat)
        return feat, maps, parts

    def _concat(self, feat: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
        cat = parts.flatten(1)
        if self.with_global:
            cat = torch.cat([cat, feat.mean(dim=(2, 3))], dim=1)
        return cat

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Concatenated part (+ global) features, (N, P*C [+ C])."""
        feat, _, parts = self._parts(feats)
        return self._concat(feat, parts)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))

    def part_logits(self, parts: torch.Tensor) -> torch.Tensor:
        """Per-part class scores (N, P, K)."""
        n = parts.size(0)
        out = self.part_fc(parts.reshape(n, -1, 1))
        return out.view(n, self.num_parts, self.num_classes)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_cls`` + ``loss_part`` + ``loss_dis`` + ``loss_div``."""
        target = labels_of(data_samples, 'MACNNHead')
        feat, maps, parts = self._parts(feats)
        cls_score = self.fc(self._concat(feat, parts))
        losses = dict(
            loss_cls=self.loss_module(
                cls_score, target, avg_factor=cls_score.size(0), **kwargs))
        part_scores = self.part_logits(parts)
        losses['loss_part'] = self.part_loss_weight * F.cross_entropy(
            part_scores.flatten(0, 1),
            target.repeat_interleave(self.num_parts))
        if self.detach_cng:
            det = feat.detach()
            maps = self.attention_maps(det, self.channel_weights(det))
        losses.update(self.cng_loss(maps))
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses

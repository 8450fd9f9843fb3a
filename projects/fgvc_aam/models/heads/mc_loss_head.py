"""Classification head trained with the Mutual-Channel loss (Chang et al. 2020).

Takes the backbone's last feature map (the model config uses ``neck=None``),
optionally reduces it to ``num_classes * xi`` channels with a 1x1
conv-BN-ReLU, pools it (average or max, to ``pool_size``), classifies it
(one linear layer, or the official ``BN -> FC -> BN -> ELU -> FC``;
cross-entropy ``loss_ce``) and adds the MC-loss terms ``loss_dis`` and
``loss_div`` of :class:`MutualChannelLoss` computed on the same maps. The
three terms are logged separately; mmengine sums them.

Layouts of the official code (github.com/PRIS-CV/Mutual-Channel-Loss; see
``configs/mc_loss/README.md`` and ``configs/table8/README.md``):

- ResNet-50 (``MC_ResNet50.py``, commit 9e495cc): ``channels_per_class=None``
  shares all backbone channels among the classes (2048 = 152 x 10 + 48 x 11
  for 200 classes, no 1x1 layer), ``pool='max'``, ``hidden_channels=512``.
- ResNet-18 / VGG-16 from scratch (``CUB-200-2011_ResNet18.py``,
  ``CUB-200-2011.py``): the backbone itself outputs ``200 * 3 = 600``
  channels (``ResNetLastStage`` / ``VGGLastConv``), ``channels_per_class=3``,
  ``pool='max'`` with ``pool_size=1`` (ResNet-18) or ``7`` (VGG-16, then
  flattened), ``hidden_channels=512``.

The defaults (1x1 conv-BN-ReLU to ``K x 3`` channels when ``in_channels !=
num_classes * xi``, GAP + one linear layer) are our variant, which keeps any
MMPretrain backbone unchanged (``mc-loss-ours_*`` configs). The CWA mask uses
torch's RNG (see :mod:`..losses.mutual_channel_loss`).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..losses.mutual_channel_loss import split_channels
from ...utils.checks import check_choice, check_int, feature_map, labels_of


@MODELS.register_module()
class MCLossHead(LinearClsHead):
    """Pooling + classifier plus the MC-loss on the feature maps.

    Args:
        num_classes (int): Number of classes ``K``.
        in_channels (int): Channels of the backbone's last feature map.
        channels_per_class (int, optional): ``xi``. None: no 1x1 layer, the
            ``in_channels`` are split among the classes as the official
            ResNet-50 script does (:func:`split_channels`). Defaults to 3.
        mc_loss (dict): Config of :class:`MutualChannelLoss` without
            ``num_classes`` / ``channels_per_class`` (filled in here).
            Defaults to the official weights ``alpha=1.5, beta=20``.
        norm_cfg (dict): Norm of the 1x1 reduction. Defaults to BN.
        act_cfg (dict): Activation of the 1x1 reduction. Defaults to ReLU.
        pool (str): Pooling of the maps before the classifier, ``'avg'`` or
            ``'max'`` (official). Defaults to ``'avg'``.
        pool_size (int): Output size of the pooling, flattened before the
            classifier: 1 is global pooling; the official VGG-16 script
            max-pools its 14 x 14 maps to 7 x 7 (``pool_size=7``).
            Defaults to 1.
        hidden_channels (int, optional): If set, the classifier is the
            official ``BN1d -> Linear(hidden) -> BN1d -> ELU -> Linear``
            instead of one linear layer. Defaults to None.
        loss (dict): Classifier loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Defaults to Normal(std=0.01) on Linear.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 channels_per_class: Optional[int] = 3,
                 mc_loss: dict = dict(
                     type='MutualChannelLoss', weight_dis=1.5,
                     weight_div=20.0),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 pool: str = 'avg',
                 pool_size: int = 1,
                 hidden_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01),
                 **kwargs) -> None:
        owner = 'MCLossHead'
        num_classes = check_int('num_classes', num_classes, 1, owner)
        in_channels = check_int('in_channels', in_channels, 1, owner)
        if channels_per_class is None:
            xi = split_channels(in_channels, num_classes)
            mc_channels = in_channels
        else:
            xi = check_int('channels_per_class', channels_per_class, 1,
                           owner)
            mc_channels = num_classes * xi
        check_choice('pool', pool, ('avg', 'max'), owner)
        if hidden_channels is not None:
            hidden_channels = check_int('hidden_channels', hidden_channels,
                                        1, owner)
        pool_size = check_int('pool_size', pool_size, 1, owner)
        pooled = mc_channels * pool_size * pool_size
        super().__init__(
            num_classes=num_classes,
            in_channels=hidden_channels or pooled,
            init_cfg=init_cfg,
            **kwargs)
        self.feat_channels = in_channels
        self.channels_per_class = xi
        if hidden_channels is None:
            self.pre_fc = nn.Identity()
        else:  # official: BN -> FC -> BN -> ELU before the last FC
            self.pre_fc = nn.Sequential(
                nn.BatchNorm1d(pooled),
                nn.Linear(pooled, hidden_channels),
                nn.BatchNorm1d(hidden_channels), nn.ELU(inplace=True))
        if in_channels != mc_channels:
            self.reduce = ConvModule(
                in_channels, mc_channels, 1, norm_cfg=norm_cfg,
                act_cfg=act_cfg)
        else:
            self.reduce = nn.Identity()
        mc_loss = dict(mc_loss)
        shared = dict(num_classes=num_classes, channels_per_class=xi)
        for key, value in shared.items():
            if mc_loss.get(key, value) != value:
                raise ValueError(
                    f'{owner}: `mc_loss.{key}`={mc_loss[key]!r} disagrees '
                    f'with the head ({value}); leave it out of `mc_loss`')
        mc_loss.update(shared)
        self.mc_loss = MODELS.build(mc_loss)
        self.gap = (nn.AdaptiveAvgPool2d(pool_size)
                    if pool == 'avg' else nn.AdaptiveMaxPool2d(pool_size))

    def mc_maps(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The (N, K*xi, H, W) maps the MC-loss and the classifier use."""
        return self.reduce(feature_map(feats, 'MCLossHead'))

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Pooled MC maps (through the official MLP if configured)."""
        return self.pre_fc(self.gap(self.mc_maps(feats)).flatten(1))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_ce`` + ``loss_dis`` + ``loss_div`` (+ accuracy if asked)."""
        maps = self.mc_maps(feats)
        cls_score = self.fc(self.pre_fc(self.gap(maps).flatten(1)))
        target = labels_of(data_samples, 'MCLossHead')
        if 'gt_score' in data_samples[0]:
            ce_target = torch.stack([i.gt_score for i in data_samples])
        else:
            ce_target = target
        losses = dict(
            loss_ce=self.loss_module(
                cls_score, ce_target, avg_factor=cls_score.size(0),
                **kwargs))
        losses.update(self.mc_loss(maps, target))
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses

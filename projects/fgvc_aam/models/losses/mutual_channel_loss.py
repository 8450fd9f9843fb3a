"""Mutual-Channel loss (MC-loss), Chang et al., IEEE TIP 2020 (thesis eqs. 37-41).

Paper: "The Devil is in the Channels: Mutual-Channel Loss for Fine-Grained
Image Classification". Reimplemented after reading the official code
(github.com/PRIS-CV/Mutual-Channel-Loss, ``CUB-200-2011.py`` /
``CUB-200-2011_ResNet18.py``: functions ``Mask`` and ``supervisor``, and
``my_pooling.py``); no code is copied.

Each of the ``K`` classes owns ``xi`` consecutive channels of the feature map
``F`` (shape ``(N, K*xi, H, W)``).

- ``L_dis`` (discriminality component): a random channel-wise attention mask
  (CWA) zeroes ``num_masked`` of the ``xi`` channels of every class, then
  cross-channel max pooling (CCMP) over each class's group, global average
  pooling (GAP) and softmax cross-entropy against the label (eqs. 38-39).
- ``L_div`` (diversity component): softmax over the ``H*W`` positions of
  every channel, CCMP per group, sum over positions, mean over the batch and
  the classes (eqs. 40-41). It is at most ``xi`` and is largest when the
  channels of one class peak at different places.

The official training loss, which this module reproduces, is::

    loss = CE(classifier) + alpha * L_dis + beta * (1 - L_div / xi)

with ``alpha = 1.5``, ``beta = 20`` and ``xi = 3`` in both official scripts
(``args.alpha_1``, ``args.beta_1``; the ``1 - . / xi`` form is the official
``loss_2``). In the paper's notation ``L_MC = L_dis - lambda * L_div`` added
with weight ``mu`` this is ``mu = alpha`` and ``lambda = beta / (alpha * xi)``
up to the constant ``beta``, which has no gradient. ``weight_dis`` is alpha,
``weight_div`` is beta.

The CWA mask keeps exactly ``xi - num_masked`` channels per class (official:
``[1] * 2 + [0] * 1`` shuffled per class, i.e. ``num_masked = 1`` for
``xi = 3``; the paper drops ``floor(xi / 2)``, our default). As in the
official code one mask is shared by the whole batch (``mask_per_sample=False``)
and it is only applied in training mode: in eval mode ``L_dis`` is computed
without a mask. The mask is drawn with torch's global RNG on the features'
device, so mmengine's ``randomness.seed`` makes it reproducible. Deviation:
the official code draws it with Python's ``random``.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .._checks import check_bool, check_float, check_int


def channel_groups(feats: torch.Tensor, num_classes: int,
                   channels_per_class: int) -> torch.Tensor:
    """(N, K*xi, H, W) -> (N, K, xi, H*W), class k owning channels k*xi..."""
    n, c, h, w = feats.shape
    if c != num_classes * channels_per_class:
        raise ValueError(
            f'MutualChannelLoss expects num_classes * channels_per_class = '
            f'{num_classes} * {channels_per_class} = '
            f'{num_classes * channels_per_class} channels, got {c}')
    return feats.reshape(n, num_classes, channels_per_class, h * w)


def mc_dis_loss(feats: torch.Tensor, target: torch.Tensor, num_classes: int,
                channels_per_class: int,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """L_dis: CWA mask -> CCMP -> GAP -> softmax cross-entropy.

    ``mask`` broadcasts to (N, K, xi) (e.g. (1, K, xi)); None means no mask.
    """
    groups = channel_groups(feats, num_classes, channels_per_class)
    if mask is not None:
        groups = groups * mask.to(groups.dtype).unsqueeze(-1)
    # CCMP then GAP: max over the class's channels, mean over the positions.
    logits = groups.amax(dim=2).mean(dim=-1)
    return F.cross_entropy(logits, target)


def mc_div_term(feats: torch.Tensor, num_classes: int,
                channels_per_class: int) -> torch.Tensor:
    """The paper's L_div: mean over (n, k) of sum_hw max_j softmax_hw(F_kj)."""
    groups = channel_groups(feats, num_classes, channels_per_class)
    spatial_softmax = groups.softmax(dim=-1)
    return spatial_softmax.amax(dim=2).sum(dim=-1).mean()


@MODELS.register_module()
class MutualChannelLoss(nn.Module):
    """MC-loss terms ``weight_dis * L_dis`` and ``weight_div * (1 - L_div/xi)``.

    Args:
        num_classes (int): Number of classes ``K``.
        channels_per_class (int): ``xi``, channels owned by each class.
            Defaults to 3 (official).
        num_masked (int, optional): Channels per class zeroed by the CWA
            mask in training, ``0 <= num_masked < xi``. Defaults to
            ``xi // 2`` (1 for ``xi = 3``, as the official code).
        weight_dis (float): alpha, weight of ``L_dis``. Defaults to 1.5.
        weight_div (float): beta, weight of ``1 - L_div / xi``.
            Defaults to 20.0.
        mask_per_sample (bool): Draw one mask per sample instead of one per
            batch (the official code shares one). Defaults to False.
    """

    def __init__(self,
                 num_classes: int,
                 channels_per_class: int = 3,
                 num_masked: Optional[int] = None,
                 weight_dis: float = 1.5,
                 weight_div: float = 20.0,
                 mask_per_sample: bool = False) -> None:
        super().__init__()
        owner = 'MutualChannelLoss'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        self.channels_per_class = check_int('channels_per_class',
                                            channels_per_class, 1, owner)
        if num_masked is None:
            num_masked = self.channels_per_class // 2
        self.num_masked = check_int('num_masked', num_masked, 0, owner)
        if self.num_masked >= self.channels_per_class:
            raise ValueError(
                f'{owner}: `num_masked` must be < channels_per_class='
                f'{self.channels_per_class}, got {num_masked!r}')
        self.weight_dis = check_float('weight_dis', weight_dis, 0.0,
                                      owner=owner)
        self.weight_div = check_float('weight_div', weight_div, 0.0,
                                      owner=owner)
        self.mask_per_sample = check_bool('mask_per_sample',
                                          mask_per_sample, owner)

    def random_mask(self, batch_size: int,
                    device: torch.device) -> torch.Tensor:
        """A CWA mask (B, K, xi) with exactly ``xi - num_masked`` ones per
        class, B = batch_size if ``mask_per_sample`` else 1."""
        rows = batch_size if self.mask_per_sample else 1
        shape = (rows, self.num_classes, self.channels_per_class)
        mask = torch.ones(shape, device=device)
        if self.num_masked == 0:
            return mask
        dropped = torch.rand(shape, device=device).argsort(dim=-1)
        dropped = dropped[..., :self.num_masked]
        return mask.scatter(-1, dropped, 0.0)

    def forward(self,
                feats: torch.Tensor,
                target: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Weighted loss terms ``loss_dis`` and ``loss_div``.

        Args:
            feats (Tensor): (N, K*xi, H, W) feature maps.
            target (Tensor): (N,) class indices.
            mask (Tensor, optional): explicit CWA mask broadcastable to
                (N, K, xi). If None, a random mask is drawn in training mode
                and no mask is used in eval mode.
        """
        if mask is None and self.training:
            mask = self.random_mask(feats.size(0), feats.device)
        xi = self.channels_per_class
        loss_dis = mc_dis_loss(feats, target, self.num_classes, xi, mask)
        div = mc_div_term(feats, self.num_classes, xi)
        loss_div = 1.0 - div / xi
        return dict(
            loss_dis=self.weight_dis * loss_dis,
            loss_div=self.weight_div * loss_div)

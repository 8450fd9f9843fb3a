"""Mutual-Channel loss (MC-loss), Chang et al., IEEE TIP 2020 (thesis eqs. 37-41).

Paper: "The Devil is in the Channels: Mutual-Channel Loss for Fine-Grained
Image Classification". Reimplemented after reading the official code
(github.com/PRIS-CV/Mutual-Channel-Loss, ``CUB-200-2011.py`` /
``CUB-200-2011_ResNet18.py`` and ``MC_ResNet50.py`` of commit 9e495cc:
functions ``Mask`` and ``supervisor``, and ``my_pooling.py``); no code is
copied.

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

with ``alpha = 1.5``, ``beta = 20`` and ``xi = 3`` in the two from-scratch
scripts (``args.alpha_1``, ``args.beta_1``; the ``1 - . / xi`` form is the
official ``loss_2``). The ResNet-50 script uses ``0.0005 * (L_dis + 10 *
L_div')`` on 10 / 11 channels per class, 4 of them masked (``alpha = 0.0005,
beta = 0.005``, ``channels_per_class`` a list, ``num_masked=4``). In the
paper's notation ``L_MC = L_dis - lambda * L_div`` added with weight ``mu``
this is ``mu = alpha`` and ``lambda = beta / (alpha * xi)``
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
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from ...utils.checks import check_bool, check_float, check_int


def split_channels(channels: int, num_classes: int) -> List[int]:
    """Channels per class when all ``channels`` are shared by ``num_classes``:
    ``floor(C / K)`` each, the last ``C mod K`` classes one more.

    The official ResNet-50 script hard-codes this for C = 2048, K = 200:
    ``[10] * 152 + [11] * 48`` (``MC_ResNet50.py`` line 106).
    """
    base, extra = divmod(channels, num_classes)
    if base < 1:
        raise ValueError(f'split_channels: {channels} channels cannot give '
                         f'each of {num_classes} classes one channel')
    return [base] * (num_classes - extra) + [base + 1] * extra


def class_runs(sizes: Sequence[int]) -> List[Tuple[int, int, int]]:
    """Runs of consecutive classes with the same group size:
    ``[(first_channel, num_classes_in_run, channels_per_class), ...]``."""
    runs, channel, i = [], 0, 0
    while i < len(sizes):
        j = i
        while j < len(sizes) and sizes[j] == sizes[i]:
            j += 1
        runs.append((channel, j - i, sizes[i]))
        channel += (j - i) * sizes[i]
        i = j
    return runs


@MODELS.register_module()
class MutualChannelLoss(nn.Module):
    """MC-loss terms ``weight_dis * L_dis`` and ``weight_div * (1 - L_div/xi)``.

    With unequal groups (``channels_per_class`` a list, as the official
    ResNet-50 script's 10 / 11 channels per class) ``L_dis`` is one
    cross-entropy over all classes and the diversity term is the official
    sum over the group sizes ``s`` of ``1 - mean_{n, k: xi_k = s}(div_k) / s``
    (``MC_ResNet50.py`` lines 145-160).

    Args:
        num_classes (int): Number of classes ``K``.
        channels_per_class (int | list[int]): ``xi``, channels owned by
            each class, or one count per class (consecutive channels, class
            order). Defaults to 3 (official VGG-16 / ResNet-18 scripts).
        num_masked (int, optional): Channels per class zeroed by the CWA
            mask in training, ``0 <= num_masked < min(xi)``. Defaults to
            ``min(xi) // 2`` (1 for ``xi = 3``, as the official code).
        weight_dis (float): alpha, weight of ``L_dis``. Defaults to 1.5.
        weight_div (float): beta, weight of ``1 - L_div / xi``.
            Defaults to 20.0.
        mask_per_sample (bool): Draw one mask per sample instead of one per
            batch (the official code shares one). Defaults to False.
    """

    def __init__(self,
                 num_classes: int,
                 channels_per_class: Union[int, Sequence[int]] = 3,
                 num_masked: Optional[int] = None,
                 weight_dis: float = 1.5,
                 weight_div: float = 20.0,
                 mask_per_sample: bool = False) -> None:
        super().__init__()
        owner = 'MutualChannelLoss'
        self.num_classes = check_int('num_classes', num_classes, 1, owner)
        if isinstance(channels_per_class, (list, tuple)):
            if len(channels_per_class) != self.num_classes:
                raise ValueError(
                    f'{owner}: `channels_per_class` lists '
                    f'{len(channels_per_class)} counts for num_classes='
                    f'{self.num_classes} classes')
            sizes = [
                check_int('channels_per_class', x, 1, owner)
                for x in channels_per_class
            ]
        else:
            sizes = [check_int('channels_per_class', channels_per_class, 1,
                               owner)] * self.num_classes
        self.sizes = sizes
        self.runs = class_runs(sizes)
        self.uniform = len(self.runs) == 1
        # `channels_per_class` stays the int xi when every class has xi.
        self.channels_per_class = sizes[0] if self.uniform else list(sizes)
        self.num_channels = sum(sizes)
        smallest = min(sizes)
        if num_masked is None:
            num_masked = smallest // 2
        self.num_masked = check_int('num_masked', num_masked, 0, owner)
        if self.num_masked >= smallest:
            raise ValueError(
                f'{owner}: `num_masked` must be < channels_per_class='
                f'{smallest}, got {num_masked!r}')
        self.weight_dis = check_float('weight_dis', weight_dis, 0.0,
                                      owner=owner)
        self.weight_div = check_float('weight_div', weight_div, 0.0,
                                      owner=owner)
        self.mask_per_sample = check_bool('mask_per_sample',
                                          mask_per_sample, owner)

    def random_mask(self, batch_size: int,
                    device: torch.device) -> torch.Tensor:
        """A CWA mask with exactly ``xi - num_masked`` ones per class:
        (B, K, xi) for equal groups, (B, C) channel mask otherwise; B =
        batch_size if ``mask_per_sample`` else 1."""
        rows = batch_size if self.mask_per_sample else 1
        parts = []
        for _, n, size in self.runs:
            shape = (rows, n, size)
            mask = torch.ones(shape, device=device)
            if self.num_masked:
                dropped = torch.rand(shape, device=device).argsort(dim=-1)
                mask = mask.scatter(-1, dropped[..., :self.num_masked], 0.0)
            parts.append(mask)
        if self.uniform:
            return parts[0]
        return torch.cat([p.flatten(1) for p in parts], dim=1)

    def forward(self,
                feats: torch.Tensor,
                target: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Weighted loss terms ``loss_dis`` and ``loss_div``.

        Args:
            feats (Tensor): (N, C, H, W) feature maps, C = sum of the
                classes' channel counts.
            target (Tensor): (N,) class indices.
            mask (Tensor, optional): explicit CWA mask, (N or 1, K, xi) for
                equal groups or a channel mask (N or 1, C). If None, a random
                mask is drawn in training mode and no mask is used in eval
                mode.
        """
        n, c, h, w = feats.shape
        if c != self.num_channels:
            raise ValueError(
                f'MutualChannelLoss expects {self.num_channels} channels '
                f'(num_classes={self.num_classes}, channels_per_class='
                f'{self.channels_per_class}), got {c}')
        if mask is None and self.training:
            mask = self.random_mask(n, feats.device)
        if mask is not None:
            mask = mask.reshape(mask.size(0), c).to(feats.dtype)
        logits, loss_div = [], feats.new_zeros(())
        for first, k, size in self.runs:
            part = feats[:, first:first + k * size]
            groups = part.reshape(n, k, size, h * w)
            # L_div: spatial softmax, CCMP, sum over positions, mean.
            div = groups.softmax(dim=-1).amax(dim=2).sum(dim=-1).mean()
            loss_div = loss_div + (1.0 - div / size)
            if mask is not None:
                part_mask = mask[:, first:first + k * size]
                groups = groups * part_mask.reshape(-1, k, size, 1)
            # L_dis logits: CCMP over the class's channels, then GAP.
            logits.append(groups.amax(dim=2).mean(dim=-1))
        loss_dis = F.cross_entropy(torch.cat(logits, dim=1), target)
        return dict(
            loss_dis=self.weight_dis * loss_dis,
            loss_div=self.weight_div * loss_div)

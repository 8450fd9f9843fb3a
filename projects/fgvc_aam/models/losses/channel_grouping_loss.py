"""Channel-grouping loss of MA-CNN, Zheng et al., ICCV 2017 (seed 003).

For part attention maps ``M_i`` (i = 1..P) over positions ``(x, y)``::

    L_dis = sum_i sum_xy M_i(x, y) * ((x - t_x^i)^2 + (y - t_y^i)^2)
    L_div = sum_i sum_xy M_i(x, y) * (max_{k != i} M_k(x, y) - mrg)
    L_cng = L_dis + lambda * L_div          (lambda = 2, mrg = 0.02)

``(t_x^i, t_y^i)`` is the peak of ``M_i`` (no gradient through the argmax).
L_dis makes each part compact around its peak, L_div keeps different parts
apart. Our conventions (documented deviations, the paper leaves them open):

- Coordinates are cell centres normalised to [0, 1]: ``x = (col + .5) / W``.
- The sums over positions are means over positions (= sum / (H*W)), so the
  loss does not grow with the feature-map size; the factor is absorbed by
  the loss weight. Parts are summed, the batch is averaged.
- With a single part ``L_div`` is 0 (there is no other part).
"""
from typing import Dict

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from ...utils.checks import check_float


def part_peaks(maps: torch.Tensor) -> torch.Tensor:
    """Normalised (x, y) of each map's argmax, (N, P, 2), no gradient."""
    n, p, h, w = maps.shape
    idx = maps.detach().flatten(2).argmax(dim=-1)
    ys = (torch.div(idx, w, rounding_mode='floor').to(maps.dtype) + 0.5) / h
    xs = ((idx % w).to(maps.dtype) + 0.5) / w
    return torch.stack([xs, ys], dim=-1)


def grid_coords(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """Normalised cell-centre coordinates (H, W, 2) as (x, y)."""
    ys = (torch.arange(h, device=like.device, dtype=like.dtype) + 0.5) / h
    xs = (torch.arange(w, device=like.device, dtype=like.dtype) + 0.5) / w
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([gx, gy], dim=-1)


def cng_dis(maps: torch.Tensor) -> torch.Tensor:
    """Compactness term, (N,): sum over parts of mean_xy M_i * dist^2."""
    n, p, h, w = maps.shape
    peaks = part_peaks(maps)  # (N, P, 2)
    grid = grid_coords(h, w, maps)  # (H, W, 2)
    dist2 = ((grid[None, None] - peaks[:, :, None, None]) ** 2).sum(-1)
    return (maps * dist2).mean(dim=(-2, -1)).sum(dim=1)


def cng_div(maps: torch.Tensor, margin: float) -> torch.Tensor:
    """Diversity term, (N,): sum over parts of mean_xy M_i (max_k!=i M_k - mrg).
    """
    n, p, h, w = maps.shape
    if p < 2:
        return maps.new_zeros(n)
    top2, top_idx = maps.topk(2, dim=1)  # (N, 2, H, W)
    part_ids = torch.arange(p, device=maps.device).view(1, p, 1, 1)
    # max over the other parts: the runner-up where part i is the maximum.
    others = torch.where(part_ids == top_idx[:, :1], top2[:, 1:2],
                         top2[:, :1])
    return (maps * (others - margin)).mean(dim=(-2, -1)).sum(dim=1)


@MODELS.register_module()
class ChannelGroupingLoss(nn.Module):
    """MA-CNN ``L_cng = L_dis + lambda * L_div`` as two weighted terms.

    Args:
        div_weight (float): ``lambda``. Defaults to 2.0 (paper).
        margin (float): ``mrg``. Defaults to 0.02 (paper).
        loss_weight (float): Weight of the whole ``L_cng``. Defaults to 1.0.
    """

    def __init__(self,
                 div_weight: float = 2.0,
                 margin: float = 0.02,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        owner = 'ChannelGroupingLoss'
        self.div_weight = check_float('div_weight', div_weight, 0.0,
                                      owner=owner)
        self.margin = check_float('margin', margin, 0.0, 1.0, owner=owner)
        self.loss_weight = check_float('loss_weight', loss_weight, 0.0,
                                       owner=owner)

    def forward(self, maps: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_dis`` and ``loss_div`` (already weighted) for (N, P, H, W)
        attention maps in [0, 1]."""
        if maps.dim() != 4:
            raise ValueError('ChannelGroupingLoss needs (N, P, H, W) maps, '
                             f'got {tuple(maps.shape)}')
        return dict(
            loss_dis=self.loss_weight * cng_dis(maps).mean(),
            loss_div=self.loss_weight * self.div_weight *
            cng_div(maps, self.margin).mean())

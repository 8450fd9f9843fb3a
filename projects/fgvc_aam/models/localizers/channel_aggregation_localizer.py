"""Channel-aggregation object localizer (thesis eqs. 47-48).

The last feature map ``F`` (C, H, W) of the raw image is summed over its
channels, ``A(i, j) = sum_c F_c(i, j)`` (eq. 47), thresholded at its mean,
``M = A > mean(A)`` (eq. 48), and the largest connected component of ``M``
gives the object box (SCDA, Wei et al. 2017). Optionally the mask is
intersected with the mask of an earlier stage (AOLM of MMAL-Net, Zhang et al.
2021).

Everything is batched on the tensor's device: no Python loop over images,
no host transfer and (on CUDA) no host synchronisation. The connected
components come from :func:`connected_components`, a Boruvka-style
hook-and-compress labelling with a provable bound of ``floor(log2(H*W))``
rounds, so a fixed, small number of tensor operations is launched.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor

from ...utils.checks import check_bool, check_choice, check_int


def _window_reduce(labels: Tensor, fill: int, connectivity: int,
                   op) -> Tensor:
    """Reduce ``labels`` (N, H, W) over each cell's neighbourhood.

    The neighbourhood is the 3x3 square (8-connectivity, computed separably)
    or the cross (4-connectivity), the cell itself included; cells outside
    the map count as ``fill``.
    """
    p = F.pad(labels, (1, 1, 1, 1), value=fill)
    if connectivity == 8:
        rows = op(op(p[:, :, :-2], p[:, :, 1:-1]), p[:, :, 2:])
        return op(op(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])
    vertical = op(p[:, :-2, 1:-1], p[:, 2:, 1:-1])
    horizontal = op(p[:, 1:-1, :-2], p[:, 1:-1, 2:])
    return op(op(vertical, horizontal), labels)


def connected_components(mask: Tensor,
                         connectivity: int = 8,
                         early_exit: bool = False) -> Tensor:
    """Label the connected components of a batch of binary masks.

    Boruvka-style hooking with full path compression. Every component is a
    forest of trees whose roots are cell indices of the component. Each
    round, every tree hooks onto its largest adjacent root if that is larger
    than its own, otherwise (a local maximum) onto its smallest adjacent
    root. The pointer graph then only has 2-cycles (a local maximum and its
    smallest neighbour pointing at each other), broken by keeping the larger
    root. Every tree with a neighbour merges with at least one other tree,
    so the number of trees per component at least halves and
    ``floor(log2(H*W))`` rounds suffice; pointer jumping compresses each
    round's forest in ``ceil(log2(depth))`` steps.

    Args:
        mask (Tensor): Boolean masks (N, H, W).
        connectivity (int): 8 (3x3 neighbourhood) or 4 (cross).
        early_exit (bool): Stop as soon as no tree hooks (checks a tensor on
            the host once per round: only sensible for CPU tensors). The
            labelling is exact either way.

    Returns:
        Tensor: int64 labels (N, H, W): -1 on background, otherwise the flat
        index ``y * W + x`` of one cell of the component (the same cell for
        the whole component).
    """
    if mask.dim() != 3:
        raise ValueError(f'mask must be (N, H, W), got {tuple(mask.shape)}')
    mask = mask.bool()
    # H, W ints when traced; the batch stays symbolic (dynamic-batch export)
    num = mask.shape[0]
    height, width = (int(s) for s in mask.shape[1:])
    n = height * width
    flat_mask = mask.reshape(num, n)
    idx = torch.arange(n, device=mask.device).expand(num, n)
    labels = torch.where(flat_mask, idx, -1)
    if num == 0 or n <= 1:
        return labels.view(num, height, width)

    not_mask = ~flat_mask
    trees = n  # upper bound on the number of trees in one component
    for _ in range(n.bit_length() - 1):  # floor(log2(n)) rounds
        # Largest adjacent root, and (negated) smallest adjacent root, in one
        # batched window max; -n marks "no root".
        both = torch.stack([labels, (-labels).masked_fill(not_mask, -n)])
        both = _window_reduce(
            both.view(2 * num, height, width), -n, connectivity,
            torch.maximum).view(2, num, n).masked_fill(not_mask, -n)
        root = labels.clamp(min=0)  # background cells scatter -n: no effect
        tree = torch.full((2 * num, n), -n, dtype=labels.dtype,
                          device=labels.device).scatter_reduce_(
                              1, root.repeat(2, 1), both.view(2 * num, n),
                              'amax')
        tree_up, tree_down = tree[:num], -tree[num:]
        parent = torch.where(tree_up > idx, tree_up,
                             torch.where(tree_down < idx, tree_down, idx))
        if early_exit and not bool((parent != idx).any()):
            break
        mutual = (parent.gather(1, parent) == idx) & (idx > parent)
        parent = torch.where(mutual, idx, parent)
        # The forest depth is below the number of trees: compress it.
        for _ in range((trees - 1).bit_length()):
            parent = parent.gather(1, parent)
        labels = parent.gather(1, root).masked_fill_(not_mask, -1)
        trees = max(1, trees // 2)
    return labels.view(num, height, width)


def largest_component(mask: Tensor,
                      connectivity: int = 8,
                      early_exit: bool = False) -> Tuple[Tensor, Tensor]:
    """The largest connected component of each mask.

    Tie rule: among the largest components, the one whose first cell in
    raster order (smallest ``y * W + x``) comes first.

    Returns:
        tuple[Tensor, Tensor]: the component's mask (N, H, W) and a bool
        (N,) telling whether the mask had any foreground at all.
    """
    num = mask.shape[0]  # symbolic in a dynamic-batch export
    height, width = (int(s) for s in mask.shape[1:])
    n = height * width
    labels = connected_components(mask, connectivity, early_exit)
    flat_mask = mask.reshape(num, n).bool()
    flat = labels.view(num, n)
    root = flat.clamp(min=0)
    idx = torch.arange(n, device=mask.device).expand(num, n)
    sizes = torch.zeros_like(flat).scatter_add_(1, root, flat_mask.long())
    first = torch.full_like(flat, n).scatter_reduce_(
        1, root, torch.where(flat_mask, idx, n), 'amin')
    score = torch.where(sizes > 0, sizes * (n + 1) + (n - first), -1)
    best_score, best = score.max(1)
    component = (flat == best.unsqueeze(1)) & flat_mask
    return component.view(num, height, width), best_score >= 0


@MODELS.register_module()
class ChannelAggregationLocalizer(nn.Module):
    """Unsupervised object box from the channel sum of a feature map.

    Implements eqs. 47-48 of the thesis followed by the largest connected
    component (SCDA). A component's box covers whole feature cells: column
    ``c`` spans ``[c * W_img / W, (c + 1) * W_img / W)`` in input pixels, so
    ``x1 = c_min * W_img / W`` and ``x2 = (c_max + 1) * W_img / W`` (same for
    rows). An empty mask (e.g. a constant map), or NaN / inf anywhere in an
    image's features, gives the whole image ``(0, 0, W_img, H_img)``.

    The module has no parameters and no gradient flows through the box (the
    threshold is a hard decision).

    Args:
        connectivity (int): 8 (default, as SCDA and MMAL-Net) or 4.
        in_index (int): Which backbone output holds the feature map ``F``;
            read by :class:`TwoBranchClassifier`. Defaults to -1 (last).
        prev_in_index (int, optional): Backbone output of an earlier stage
            whose mask is intersected with ``M`` (MMAL-Net's AOLM); read by
            :class:`TwoBranchClassifier`. None (default) disables it.
        early_exit (bool, optional): Stop the labelling once converged. It
            costs a host check per round, free on CPU but a synchronisation
            on accelerators. None (default) enables it for CPU tensors only.
            The result is exact either way.
    """

    def __init__(self,
                 connectivity: int = 8,
                 in_index: int = -1,
                 prev_in_index: Optional[int] = None,
                 early_exit: Optional[bool] = None) -> None:
        super().__init__()
        owner = 'ChannelAggregationLocalizer'
        check_choice('connectivity', connectivity, (4, 8), owner)
        check_int('in_index', in_index, owner=owner)
        if prev_in_index is not None:
            check_int('prev_in_index', prev_in_index, owner=owner)
        if early_exit is not None:
            check_bool('early_exit', early_exit, owner)
        self.connectivity = connectivity
        self.in_index = in_index
        self.prev_in_index = prev_in_index
        self.early_exit = early_exit

    @staticmethod
    def aggregate(feat: Tensor) -> Tensor:
        """Eq. 47: the channel sum ``A`` (N, H, W), in at least float32."""
        if feat.dim() != 4:
            raise ValueError(
                f'feat must be (N, C, H, W), got {tuple(feat.shape)}')
        dtype = torch.promote_types(feat.dtype, torch.float32)
        return feat.sum(1, dtype=dtype)

    @staticmethod
    def threshold(agg: Tensor) -> Tensor:
        """Eq. 48: ``A > mean(A)`` per image (False wherever A is NaN)."""
        return agg > agg.mean((1, 2), keepdim=True)

    def object_mask(self,
                    feat: Tensor,
                    prev_feat: Optional[Tensor] = None
                    ) -> Tuple[Tensor, Tensor]:
        """The mask ``M`` (N, H, W) and whether each image's features are
        finite (N,)."""
        agg = self.aggregate(feat)
        finite = torch.isfinite(agg).flatten(1).all(1)
        mask = self.threshold(agg)
        if prev_feat is not None:
            if prev_feat.shape[0] != feat.shape[0]:
                raise ValueError('prev_feat and feat differ in batch size: '
                                 f'{prev_feat.shape[0]} vs {feat.shape[0]}')
            prev_agg = self.aggregate(prev_feat)
            finite &= torch.isfinite(prev_agg).flatten(1).all(1)
            prev_mask = self.threshold(prev_agg)
            if prev_mask.shape[-2:] != mask.shape[-2:]:
                # Area-resize to the last grid; keep cells at least half
                # covered by the earlier stage's foreground.
                prev_mask = F.adaptive_avg_pool2d(
                    prev_mask.unsqueeze(1).float(),
                    mask.shape[-2:]).squeeze(1) >= 0.5
            mask = mask & prev_mask
        return mask, finite

    def localize(self,
                 feat: Tensor,
                 img_shape: Sequence[int],
                 prev_feat: Optional[Tensor] = None) -> Tensor:
        """Boxes (N, 4) ``x1, y1, x2, y2`` (float32) in input pixels.

        Args:
            feat (Tensor): Feature map (N, C, H, W).
            img_shape (Sequence[int]): ``(height, width)`` of the input.
            prev_feat (Tensor, optional): Feature map of an earlier stage
                whose mask is intersected with this one (AOLM).
        """
        img_h, img_w = (float(s) for s in img_shape)
        with torch.no_grad():
            mask, finite = self.object_mask(feat, prev_feat)
            # the batch stays symbolic (an ONNX export with a dynamic batch)
            num = mask.shape[0]
            height, width = (int(s) for s in mask.shape[1:])
            early_exit = self.early_exit
            if early_exit is None:
                early_exit = (mask.device.type == 'cpu'
                              and not torch.jit.is_tracing())
            component, found = largest_component(mask, self.connectivity,
                                                 early_exit)
            rows = component.any(2)  # (N, H)
            cols = component.any(1)  # (N, W)
            ys = torch.arange(height, device=mask.device)
            xs = torch.arange(width, device=mask.device)
            y1 = torch.where(rows, ys, height).amin(1)
            y2 = torch.where(rows, ys, -1).amax(1) + 1
            x1 = torch.where(cols, xs, width).amin(1)
            x2 = torch.where(cols, xs, -1).amax(1) + 1
            cells = torch.stack([x1, y1, x2, y2], 1).float()
            # c * W_img / W: one rounding of the exact value.
            boxes = (cells * cells.new_tensor([img_w, img_h, img_w, img_h])
                     / cells.new_tensor([width, height, width, height]))
            whole = cells.new_tensor([0., 0., img_w, img_h]).expand(num, 4)
            valid = (found & finite).unsqueeze(1)
            return torch.where(valid, boxes, whole)

    def forward(self,
                feat: Tensor,
                img_shape: Sequence[int],
                prev_feat: Optional[Tensor] = None,
                data_samples: Optional[list] = None) -> Tensor:
        """:meth:`localize`; ``data_samples`` (passed by
        :class:`TwoBranchClassifier` to every box source) is not used."""
        return self.localize(feat, img_shape, prev_feat)

    def extra_repr(self) -> str:
        return (f'connectivity={self.connectivity}, in_index={self.in_index}, '
                f'prev_in_index={self.prev_in_index}')


__all__ = ['ChannelAggregationLocalizer', 'connected_components',
           'largest_component']

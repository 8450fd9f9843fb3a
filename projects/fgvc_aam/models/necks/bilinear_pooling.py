"""Bilinear pooling neck of B-CNN, Lin et al., ICCV 2015 (thesis eq. 35).

``B = 1/(H*W) * sum_l f_A(l) f_B(l)^T`` over the locations ``l`` of one
feature map (``f_A = f_B``, symmetric B-CNN) or of two maps, flattened, then
the signed square root ``sign(x) * sqrt(|x| + eps)`` and L2 normalisation;
the head is a linear classifier on the ``C_A * C_B`` vector.

Reimplemented after reading the reference PyTorch B-CNN
(github.com/HaoMood/bilinear-cnn, ``src/bilinear_cnn_all.py``: VGG-16
conv5_3 without pool5, ``bmm(X, X^T) / (28*28)``, ``sqrt(X + 1e-5)``,
``normalize``); no code is copied. Differences: that code takes
``sqrt(x + 1e-5)`` (valid only for non-negative, post-ReLU features); we use
the paper's signed square root so that any features work, with ``eps``
inside the root. At exactly ``x = 0`` autograd gives ``sign(0) = 0`` times a
finite ``1 / (2 sqrt(eps))``, so no NaN or inf gradient appears, even for an
all-zero input (also L2 normalisation of a zero vector is finite).

Dimension: the output has ``C_A * C_B`` entries: 262,144 for VGG-16
(512 channels), 4,194,304 for ResNet-50 (2048), which makes the classifier
alone 840M parameters for 200 classes. ``reduce_channels`` adds a 1x1
conv-BN-ReLU per input first (e.g. 2048 -> 512 gives 262,144 dims again);
:class:`CompactBilinearPooling` is the other way out.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.checks import check_bool, check_float, check_int, pair


def signed_sqrt(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``sign(x) * sqrt(|x| + eps)``; finite gradient everywhere (0 at 0)."""
    return torch.sign(x) * torch.sqrt(x.abs() + eps)


def select_maps(inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
                indices: Tuple[int, ...], owner: str) -> Tuple[torch.Tensor]:
    """Pick the (N, C, H, W) maps at ``indices`` of a backbone tuple."""
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs, )
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(f'{owner}: inputs must be a tensor or a tuple of '
                        f'tensors, got {type(inputs).__name__}')
    maps = []
    for index in indices:
        if not -len(inputs) <= index < len(inputs):
            raise IndexError(
                f'{owner}: index {index} out of range for {len(inputs)} '
                'backbone outputs; set `out_indices` of the backbone')
        x = inputs[index]
        if x.dim() != 4:
            raise ValueError(f'{owner} needs (N, C, H, W) maps, got shape '
                             f'{tuple(x.shape)} at index {index}')
        maps.append(x)
    return tuple(maps)


def match_spatial(a: torch.Tensor,
                  b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average-pool the larger map to the smaller one's size (two-stream)."""
    if a.shape[-2:] == b.shape[-2:]:
        return a, b
    size = (min(a.size(-2), b.size(-2)), min(a.size(-1), b.size(-1)))
    return F.adaptive_avg_pool2d(a, size), F.adaptive_avg_pool2d(b, size)


@MODELS.register_module()
class BilinearPooling(BaseModule):
    """B-CNN bilinear pooling + signed sqrt + L2 normalisation.

    Args:
        index (int | Sequence[int]): Which backbone outputs to use: one index
            (self outer product, the usual B-CNN) or two (``f_A``, ``f_B``;
            if their spatial sizes differ the larger one is average-pooled
            to the smaller). Defaults to -1 (the last map).
        in_channels (int | Sequence[int], optional): Channels of the chosen
            map(s); needed only with ``reduce_channels``.
        reduce_channels (int | Sequence[int], optional): If given, a 1x1
            conv-BN-ReLU first maps each input to this many channels.
        eps (float): The ``eps`` of the signed square root. Defaults to 1e-5
            (as the reference code's ``sqrt(x + 1e-5)``).
        use_signed_sqrt (bool): Apply the signed square root. Default True.
        use_l2_norm (bool): Apply L2 normalisation. Default True.
        init_cfg (dict, optional): Initialisation config.

    Returns a 1-tuple with the (N, C_A * C_B) tensor (row-major over
    ``(c_a, c_b)``), as MMPretrain necks do.
    """

    def __init__(self,
                 index: Union[int, Sequence[int]] = -1,
                 in_channels: Optional[Union[int, Sequence[int]]] = None,
                 reduce_channels: Optional[Union[int, Sequence[int]]] = None,
                 eps: float = 1e-5,
                 use_signed_sqrt: bool = True,
                 use_l2_norm: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        owner = type(self).__name__
        indices = tuple(index) if isinstance(index, (tuple, list)) else (
            index, )
        if len(indices) not in (1, 2):
            raise ValueError(f'{owner}: `index` must be one int or two, got '
                             f'{index!r}')
        self.indices = tuple(
            check_int('index', i, owner=owner) for i in indices)
        self.eps = check_float('eps', eps, 0.0, strict_min=True, owner=owner)
        self.use_signed_sqrt = check_bool('use_signed_sqrt',
                                          use_signed_sqrt, owner)
        self.use_l2_norm = check_bool('use_l2_norm', use_l2_norm, owner)
        self.reducers = None
        if reduce_channels is not None:
            if in_channels is None:
                raise ValueError(
                    f'{owner}: `in_channels` is required with '
                    f'`reduce_channels`={reduce_channels!r}')
            ins = pair(in_channels, 'in_channels', owner)
            outs = pair(reduce_channels, 'reduce_channels', owner)
            num = len(self.indices)
            self.reducers = nn.ModuleList([
                ConvModule(
                    check_int('in_channels', ins[i], 1, owner),
                    check_int('reduce_channels', outs[i], 1, owner),
                    1,
                    norm_cfg=dict(type='BN'),
                    act_cfg=dict(type='ReLU')) for i in range(num)
            ])

    def pool(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Average outer product over locations, (N, C_A * C_B)."""
        a, b = match_spatial(a, b)
        n, ca, h, w = a.shape
        cb = b.size(1)
        a = a.reshape(n, ca, h * w)
        b = b.reshape(n, cb, h * w)
        return torch.bmm(a, b.transpose(1, 2)).reshape(n, ca * cb) / (h * w)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Signed square root then L2 normalisation (each optional)."""
        if self.use_signed_sqrt:
            x = signed_sqrt(x, self.eps)
        if self.use_l2_norm:
            x = F.normalize(x, dim=1)
        return x

    def forward(self, inputs) -> Tuple[torch.Tensor]:
        maps = select_maps(inputs, self.indices, type(self).__name__)
        if self.reducers is not None:
            maps = tuple(red(x) for red, x in zip(self.reducers, maps))
        a, b = maps if len(maps) == 2 else (maps[0], maps[0])
        # Bilinear pooling in fp32 (sums of many products; AMP-safe).
        with torch.autocast(device_type=a.device.type, enabled=False):
            out = self.pool(a.float(), b.float())
            out = self.normalize(out)
        return (out, )

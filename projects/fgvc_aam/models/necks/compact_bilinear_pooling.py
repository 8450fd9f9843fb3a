"""Compact bilinear pooling by Tensor Sketch, Gao et al., CVPR 2016.

For locations ``l`` with features ``x_l`` (C_A) and ``y_l`` (C_B), the
Tensor Sketch projection of the outer product ``x_l y_l^T`` into ``d``
dimensions is::

    TS(x, y) = IFFT( FFT(Psi_1(x)) * FFT(Psi_2(y)) )

where ``Psi_k`` is a Count Sketch with a fixed random hash ``h_k: [C] -> [d]``
and sign ``s_k: [C] -> {+1, -1}``: ``Psi(x)[j] = sum_{i: h(i)=j} s(i) x_i``.
It satisfies ``E <TS(x, y), TS(x', y')> = <x, x'> <y, y'>`` with a variance
``O(1/d)``, so ``d`` (``output_dim``) trades accuracy against size. The
descriptor is the average of ``TS(x_l, y_l)`` over locations (FFT is linear:
we average in the frequency domain and take one inverse FFT), followed by
the signed square root and L2 normalisation as in B-CNN.

The hashes and signs are drawn once from ``seed`` with a private
``torch.Generator`` and kept as (persistent) buffers, so a model built with
the same seed is identical and checkpoints carry them. Two independent
sketches are used even for the symmetric (one input) case, as the estimator
needs. Reimplemented from the paper (reference implementations read:
gdlg/pytorch_compact_bilinear_pooling, DeepInsight-PCALab/
CompactBilinearPooling-Pytorch); the count sketch is an ``index_add`` (no
dense ``C x d`` matrix), the FFT is ``torch.fft.rfft``/``irfft``.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.checks import check_bool, check_float, check_int, pair
from .bilinear_pooling import match_spatial, select_maps, signed_sqrt


def count_sketch(x: torch.Tensor, hashes: torch.Tensor, signs: torch.Tensor,
                 output_dim: int) -> torch.Tensor:
    """Count Sketch of the last dim of ``x`` (..., C) -> (..., output_dim)."""
    out = x.new_zeros(x.shape[:-1] + (output_dim, ))
    return out.index_add_(x.dim() - 1, hashes, x * signs)


@MODELS.register_module()
class CompactBilinearPooling(BaseModule):
    """Tensor Sketch compact bilinear pooling (+ signed sqrt + L2 norm).

    Args:
        in_channels (int | Sequence[int]): Channels of the map (or of the
            two maps ``f_A``, ``f_B``).
        output_dim (int): Sketch dimension ``d``. Defaults to 8192 (Gao et
            al. report near-B-CNN accuracy from d = 8192).
        index (int | Sequence[int]): Backbone output(s) to use, as in
            :class:`BilinearPooling`. Defaults to -1.
        seed (int): Seed of the fixed random hashes/signs. Defaults to 0.
        eps (float): ``eps`` of the signed square root. Defaults to 1e-5.
        use_signed_sqrt (bool): Defaults to True.
        use_l2_norm (bool): Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 output_dim: int = 8192,
                 index: Union[int, Sequence[int]] = -1,
                 seed: int = 0,
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
        ca, cb = pair(in_channels, 'in_channels', owner)
        self.in_channels = (check_int('in_channels', ca, 1, owner),
                            check_int('in_channels', cb, 1, owner))
        self.output_dim = check_int('output_dim', output_dim, 1, owner)
        self.seed = check_int('seed', seed, 0, owner)
        self.eps = check_float('eps', eps, 0.0, strict_min=True, owner=owner)
        self.use_signed_sqrt = check_bool('use_signed_sqrt',
                                          use_signed_sqrt, owner)
        self.use_l2_norm = check_bool('use_l2_norm', use_l2_norm, owner)
        gen = torch.Generator().manual_seed(self.seed)
        for k, c in enumerate(self.in_channels, start=1):
            hashes = torch.randint(0, self.output_dim, (c, ), generator=gen)
            signs = torch.randint(0, 2, (c, ), generator=gen).float() * 2 - 1
            self.register_buffer(f'hash{k}', hashes)
            self.register_buffer(f'sign{k}', signs)

    def sketch(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Location-averaged Tensor Sketch of two (N, C, H, W) maps, (N, d)."""
        a, b = match_spatial(a, b)
        for x, c in zip((a, b), self.in_channels):
            if x.size(1) != c:
                raise ValueError(
                    f'{type(self).__name__}: expected {c} channels '
                    f'(`in_channels`), got {x.size(1)}')
        d = self.output_dim
        a = a.flatten(2).transpose(1, 2)  # (N, HW, C_A)
        b = b.flatten(2).transpose(1, 2)
        fa = torch.fft.rfft(count_sketch(a, self.hash1, self.sign1, d), n=d)
        fb = torch.fft.rfft(count_sketch(b, self.hash2, self.sign2, d), n=d)
        return torch.fft.irfft((fa * fb).mean(dim=1), n=d)

    def forward(self, inputs) -> Tuple[torch.Tensor]:
        maps = select_maps(inputs, self.indices, type(self).__name__)
        a, b = maps if len(maps) == 2 else (maps[0], maps[0])
        with torch.autocast(device_type=a.device.type, enabled=False):
            out = self.sketch(a.float(), b.float())
            if self.use_signed_sqrt:
                out = signed_sqrt(out, self.eps)
            if self.use_l2_norm:
                out = F.normalize(out, dim=1)
        return (out, )

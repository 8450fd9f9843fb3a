"""Tensor Sketch compact bilinear pooling (CompactBilinearPooling)."""
import math

import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS


pytestmark = pytest.mark.usefixtures('one_thread')


def test_compact_sketch_equals_explicit_tensor_sketch():
    """Our FFT/index_add path equals the definition: circular convolution of
    the two count sketches, averaged over locations."""
    torch.manual_seed(0)
    c, d = 6, 10
    neck = MODELS.build(
        dict(type='CompactBilinearPooling', in_channels=c, output_dim=d,
             use_signed_sqrt=False, use_l2_norm=False, seed=3))
    x = torch.randn(2, c, 2, 3)
    out = neck((x, ))[0].double()
    h1, s1, h2, s2 = neck.hash1, neck.sign1, neck.hash2, neck.sign2
    ref = torch.zeros(2, d, dtype=torch.float64)
    for n in range(2):
        for y in range(2):
            for xx in range(3):
                f = x[n, :, y, xx].double()
                # TS(f, f)[k] = sum_{i,j: h1(i)+h2(j) = k mod d} s1 s2 f_i f_j
                for i in range(c):
                    for j in range(c):
                        k = (int(h1[i]) + int(h2[j])) % d
                        ref[n, k] += s1[i] * s2[j] * f[i] * f[j]
    torch.testing.assert_close(out, ref / 6, rtol=1e-5, atol=1e-5)


def test_compact_hashes_are_seeded_buffers():
    a = MODELS.build(dict(type='CompactBilinearPooling', in_channels=8,
                          output_dim=32, seed=5))
    b = MODELS.build(dict(type='CompactBilinearPooling', in_channels=8,
                          output_dim=32, seed=5))
    c = MODELS.build(dict(type='CompactBilinearPooling', in_channels=8,
                          output_dim=32, seed=6))
    assert set(dict(a.named_buffers())) == {'hash1', 'sign1', 'hash2',
                                            'sign2'}
    assert 'hash1' in a.state_dict()
    assert torch.equal(a.hash1, b.hash1) and torch.equal(a.sign2, b.sign2)
    assert not torch.equal(a.hash1, c.hash1)
    assert a.hash1.max() < 32 and set(a.sign1.tolist()) <= {-1.0, 1.0}


def test_compact_approximates_bilinear_inner_product():
    """E <CBP(X), CBP(Y)> = <B(X), B(Y)> with relative error ~ 1/sqrt(d)."""
    torch.manual_seed(0)
    x = torch.rand(3, 16, 4, 4)
    y = torch.rand(3, 16, 4, 4)
    full = MODELS.build(
        dict(type='BilinearPooling', use_signed_sqrt=False,
             use_l2_norm=False))
    exact = (full((x, ))[0] * full((y, ))[0]).sum(1)

    def rms_rel_error(d, seeds=24):
        errs = []
        for seed in range(seeds):
            cbp = MODELS.build(
                dict(type='CompactBilinearPooling', in_channels=16,
                     output_dim=d, seed=seed, use_signed_sqrt=False,
                     use_l2_norm=False))
            est = (cbp((x, ))[0] * cbp((y, ))[0]).sum(1)
            errs.append((est - exact) / exact)
        errs = torch.stack(errs)
        return errs.pow(2).mean().sqrt().item(), errs.mean().item()

    e64, bias64 = rms_rel_error(64)
    e4096, _ = rms_rel_error(4096)
    # 64x more dimensions -> about 8x smaller error; demand at least 4x.
    assert e4096 < e64 / 4
    assert e4096 < 0.1
    # Unbiased: the mean over seeds is within ~3 standard errors of 0.
    assert abs(bias64) < 3 * e64 / math.sqrt(24)

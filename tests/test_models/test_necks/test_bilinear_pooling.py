"""B-CNN bilinear pooling and Tensor Sketch compact bilinear pooling."""
import math

import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS


pytestmark = pytest.mark.usefixtures('one_thread')


def loop_bilinear(a, b):
    """Explicit reference: mean over locations of the outer products."""
    n, ca, h, w = a.shape
    cb = b.shape[1]
    out = torch.zeros(n, ca, cb, dtype=torch.float64)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                fa = a[i, :, y, x].double()
                fb = b[i, :, y, x].double()
                out[i] += torch.outer(fa, fb)
    return (out / (h * w)).reshape(n, ca * cb)


def reference_normalize(z, eps):
    z = torch.sign(z) * torch.sqrt(z.abs() + eps)
    return z / z.norm(dim=1, keepdim=True)


def test_self_bilinear_equals_loop_reference():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3, 4)
    raw = MODELS.build(
        dict(type='BilinearPooling', use_signed_sqrt=False,
             use_l2_norm=False))
    out = raw((x, ))
    assert isinstance(out, tuple) and out[0].shape == (2, 25)
    torch.testing.assert_close(
        out[0].double(), loop_bilinear(x, x), rtol=1e-5, atol=1e-6)

    full = MODELS.build(dict(type='BilinearPooling', eps=1e-5))
    torch.testing.assert_close(
        full((x, ))[0].double(),
        reference_normalize(loop_bilinear(x, x), 1e-5),
        rtol=1e-5,
        atol=1e-6)


def test_two_stream_uses_the_chosen_indices_and_einsum_reference():
    torch.manual_seed(1)
    a = torch.randn(3, 4, 6, 6)
    b = torch.randn(3, 7, 3, 3)
    c = torch.randn(3, 2, 3, 3)
    neck = MODELS.build(
        dict(type='BilinearPooling', index=(0, 2), use_signed_sqrt=False,
             use_l2_norm=False))
    out = neck((a, c, b))[0]
    # The larger map is average-pooled to the smaller one's size first.
    a_small = torch.nn.functional.avg_pool2d(a, 2)
    ref = torch.einsum('nihw,njhw->nij', a_small, b) / 9
    torch.testing.assert_close(out, ref.reshape(3, 28))


def test_signed_sqrt_and_l2_values():
    from projects.fgvc_aam.models.necks.bilinear_pooling import signed_sqrt
    z = torch.tensor([-4.0, 0.0, 9.0])
    torch.testing.assert_close(
        signed_sqrt(z, 1e-5),
        torch.tensor([-math.sqrt(4 + 1e-5), 0.0, math.sqrt(9 + 1e-5)]))


@pytest.mark.parametrize('neck', [
    dict(type='BilinearPooling'),
    dict(type='BilinearPooling', in_channels=4, reduce_channels=3),
    dict(type='CompactBilinearPooling', in_channels=4, output_dim=16),
])
def test_gradients_finite_at_all_zero_input(neck):
    model = MODELS.build(neck)
    x = torch.zeros(2, 4, 3, 3, requires_grad=True)
    out = model((x, ))[0]
    assert torch.isfinite(out).all()
    (out.sum() + (out * torch.arange(out.size(1))).sum()).backward()
    assert torch.isfinite(x.grad).all()
    for p in model.parameters():
        assert p.grad is None or torch.isfinite(p.grad).all()


def test_gradients_finite_with_exact_zeros_among_entries():
    # ReLU maps with dead channels give exact zeros inside the descriptor.
    torch.manual_seed(0)
    x = torch.relu(torch.randn(2, 6, 4, 4))
    x[:, :3] = 0
    x.requires_grad_(True)
    out = MODELS.build(dict(type='BilinearPooling'))((x, ))[0]
    assert (out == 0).any()
    out.pow(2).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_reduction_and_argument_errors():
    neck = MODELS.build(
        dict(type='BilinearPooling', in_channels=8, reduce_channels=3))
    assert neck((torch.randn(2, 8, 4, 4), ))[0].shape == (2, 9)
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(dict(type='BilinearPooling', reduce_channels=3))
    with pytest.raises(ValueError, match='index'):
        MODELS.build(dict(type='BilinearPooling', index=(0, 1, 2)))
    with pytest.raises(ValueError, match='eps'):
        MODELS.build(dict(type='BilinearPooling', eps=0.0))
    with pytest.raises(ValueError, match='output_dim'):
        MODELS.build(
            dict(type='CompactBilinearPooling', in_channels=4, output_dim=0))
    with pytest.raises(IndexError, match='out_indices'):
        MODELS.build(dict(type='BilinearPooling', index=3))(
            (torch.randn(1, 2, 2, 2), ))


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


def test_bcnn_model_builds_and_runs():
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet', depth=18, base_channels=8, stem_channels=8,
                out_indices=(3, )),
            neck=dict(type='BilinearPooling'),
            head=dict(type='LinearClsHead', num_classes=3,
                      in_channels=64 * 64)))
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 3)

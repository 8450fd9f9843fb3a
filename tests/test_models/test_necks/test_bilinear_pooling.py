"""B-CNN bilinear pooling (BilinearPooling); gradients and argument checks
of both necks."""
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

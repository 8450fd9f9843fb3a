"""SphereFaceHead (A-Softmax) against the paper's formulas on
hand-computed examples: x = (3, 4) (norm 5) and unit class directions
w_0 = (1, 0), w_1 = (0, 1), so cos(theta_0) = 0.6 and cos(theta_1) = 0.8.
"""
import math

import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

X = torch.tensor([[3.0, 4.0]])

pytestmark = pytest.mark.usefixtures('one_thread')


def _log1pexp(z):
    return math.log1p(math.exp(z))


def _sphere(margin, **kw):
    head = MODELS.build(
        dict(type='SphereFaceHead', num_classes=2, in_channels=2,
             margin=margin, **kw))
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 0.5]]))
    return head


def test_sphereface_hand_computed_k0_and_k1():
    head = _sphere(2, lambda_base=0.0, lambda_min=0.0)
    # theta_0 = acos(.6) = .927 < pi/2 -> k = 0, psi = cos(2 theta) = -.28
    # logits = 5 * (-.28, .8) = (-1.4, 4.0): CE = log(1 + e^5.4)
    out = head.loss((X, ), samples([0]))['loss']
    assert out.item() == pytest.approx(_log1pexp(5.4), rel=1e-5)
    # x = (-3, 4): cos(theta_0) = -.6, theta_0 = 2.214 in [pi/2, pi) -> k = 1
    # psi = -cos(2 theta) - 2 = .28 - 2 = -1.72; logits (-8.6, 4.0)
    out = head.loss((torch.tensor([[-3.0, 4.0]]), ), samples([0]))['loss']
    assert out.item() == pytest.approx(_log1pexp(12.6), rel=1e-5)


def test_sphereface_psi_is_the_paper_function():
    from projects.fgvc_aam.models.heads.sphereface_head import a_softmax_psi
    theta = torch.linspace(0.01, math.pi - 0.01, 200, dtype=torch.float64)
    for m in (1, 2, 3, 4):
        k = torch.floor(m * theta / math.pi)
        ref = (-1)**k * torch.cos(m * theta) - 2 * k
        torch.testing.assert_close(a_softmax_psi(torch.cos(theta), m), ref)
        assert (a_softmax_psi(torch.cos(theta), m).diff() < 0).all()


def test_sphereface_annealing_schedule():
    head = _sphere(2)  # official: base 1000, gamma .12, power 1, min 5
    assert head.current_lambda().item() == pytest.approx(1000.0)
    out = head.loss((X, ), samples([0]))['loss']
    # lambda = 1000: target logit 5 * (1000 * .6 - .28) / 1001
    t = 5 * (1000 * 0.6 - 0.28) / 1001
    assert out.item() == pytest.approx(_log1pexp(4.0 - t), rel=1e-5)
    assert head.iteration.item() == 1
    head.iteration.fill_(10)
    assert head.current_lambda().item() == pytest.approx(1000 / 2.2)
    head.iteration.fill_(10**6)
    assert head.current_lambda().item() == pytest.approx(5.0)
    head.eval()
    head.loss((X, ), samples([0]))
    assert head.iteration.item() == 10**6  # counted in training only
    assert 'iteration' in head.state_dict()


def test_sphereface_m1_is_softmax_cross_entropy():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='SphereFaceHead', num_classes=4, in_channels=3, margin=1))
    x = torch.randn(6, 3)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    logits = x @ F.normalize(head.weight, dim=1).t()
    torch.testing.assert_close(
        head.loss((x, ), samples(y))['loss'], F.cross_entropy(logits, y))
    torch.testing.assert_close(head((x, )), logits)


def test_margin_logits_default_to_the_annealing_lambda():
    """``forward(feats, target)`` gives the logits the loss uses: the
    target's ``(lam cos + psi) / (1 + lam)`` at ``current_lambda()``
    (hand-computed: lambda = 1000 at step 0, psi = -.28, ||x|| = 5)."""
    head = _sphere(2)
    target = torch.tensor([0])
    t = 5 * (1000 * 0.6 - 0.28) / 1001
    torch.testing.assert_close(head((X, ), target),
                               torch.tensor([[t, 4.0]]))
    torch.testing.assert_close(head((X, ), target, 0.0),
                               torch.tensor([[5 * -0.28, 4.0]]))

"""LGMHead (L-GM loss) against the paper's formulas on hand-computed
examples and torch's cross-entropy of negative half squared distances."""
import math
import warnings

import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

pytestmark = pytest.mark.usefixtures('one_thread')


def _log1pexp(z):
    return math.log1p(math.exp(z))


def test_lgm_hand_computed():
    head = MODELS.build(
        dict(type='LGMHead', num_classes=2, in_channels=2, margin=0.5,
             lambda_lkd=0.1))
    with torch.no_grad():
        head.means.copy_(torch.tensor([[0.0, 0.0], [1.0, 3.0]]))
    x = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    # d = 1/2 ||x - mu||^2 = (1, 2). y = 0: logits (-1.5, -2) -> log(1+e^-.5)
    # y = 1: logits (-1, -3) -> log(1 + e^2). L_lkd = .1 * mean(1, 2)
    out = head.loss((x, ), samples([0, 1]))
    ce = (_log1pexp(-0.5) + _log1pexp(2.0)) / 2
    assert out['loss_cls'].item() == pytest.approx(ce, rel=1e-5)
    assert out['loss_lkd'].item() == pytest.approx(0.15, rel=1e-6)
    torch.testing.assert_close(head((x, )),
                               torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]))


def test_lgm_loss_computes_the_class_distances_once(monkeypatch):
    """One (N, K) distance computation per training step: the likelihood
    term reads only the targets' distances (it ran the forward again), and
    its gradient equals that of the distances to the targets by hand."""
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='LGMHead', num_classes=5, in_channels=3, lambda_lkd=1.0))
    calls = []
    scores = type(head).class_scores
    monkeypatch.setattr(type(head), 'class_scores',
                        lambda self, x: calls.append(1) or scores(self, x))
    x = torch.randn(4, 3, requires_grad=True)
    labels = [0, 3, 3, 1]
    head.loss((x, ), samples(labels))['loss_lkd'].backward()
    assert len(calls) == 1
    ref = x.detach().clone().requires_grad_()
    d_y = 0.5 * (ref - head.means.detach()[labels]).pow(2).sum(1)
    d_y.mean().backward()
    torch.testing.assert_close(x.grad, ref.grad)


def test_lgm_zero_margin_is_softmax_of_negative_distances():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='LGMHead', num_classes=4, in_channels=3, margin=0.0))
    x = torch.randn(5, 3)
    y = torch.tensor([0, 1, 2, 3, 3])
    d = 0.5 * torch.cdist(x, head.means).pow(2)
    out = head.loss((x, ), samples(y))
    torch.testing.assert_close(out['loss_cls'], F.cross_entropy(-d, y))


def test_old_alpha_name_warns_and_builds_the_same_head():
    """``alpha=`` (deprecated, the paper's name) is ``margin=``: same means
    and losses, checked against the hand computation above (d = (1, 2))."""
    with pytest.warns(DeprecationWarning,
                      match='LGMHead: the argument `alpha` is deprecated.*'
                      'use `margin`'):
        old = MODELS.build(dict(type='LGMHead', num_classes=2, in_channels=2,
                                alpha=0.5, lambda_lkd=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        new = MODELS.build(dict(type='LGMHead', num_classes=2, in_channels=2,
                                margin=0.5, lambda_lkd=0.1))
    assert old.margin == new.margin == 0.5
    x = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    ce = (_log1pexp(-0.5) + _log1pexp(2.0)) / 2
    for head in (old, new):
        with torch.no_grad():
            head.means.copy_(torch.tensor([[0.0, 0.0], [1.0, 3.0]]))
        out = head.loss((x, ), samples([0, 1]))
        assert out['loss_cls'].item() == pytest.approx(ce, rel=1e-5)
        assert out['loss_lkd'].item() == pytest.approx(0.15, rel=1e-6)
    with pytest.raises(TypeError, match='LGMHead: got both `alpha`.*and '
                       '`margin`; pass only `margin`'):
        MODELS.build(dict(type='LGMHead', num_classes=2, in_channels=2,
                          alpha=0.5, margin=0.5))

"""AngularMarginHead against MMPretrain's ArcFaceClsHead and eq. 51 itself."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import ArcFaceClsHead
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401  (registers AngularMarginHead)
from projects.fgvc_aam.models.heads import AngularMarginHead
from tests.helpers import samples

C, D, S = 7, 16, 30.0


def make_inputs(thetas, targets, weight, seed=0):
    """Features whose angle to the (normalised) target weight is ``thetas``.

    x = cos(t) w_y + sin(t) u with u a unit vector orthogonal to w_y.
    """
    g = torch.Generator().manual_seed(seed)
    w = F.normalize(weight, dim=1)
    feats = []
    for t, y in zip(thetas, targets):
        u = torch.randn(weight.shape[1], generator=g, dtype=weight.dtype)
        u = u - (u @ w[y]) * w[y]
        u = u / u.norm()
        feats.append(math.cos(t) * w[y] + math.sin(t) * u)
    # arbitrary positive norms: the head must normalise the features
    norms = torch.rand(len(feats), 1, generator=g, dtype=weight.dtype) + 0.5
    return torch.stack(feats) * norms


def reference_eq51(x, weight, target, margins, scale):
    """Eq. 51 written from the definition: angles via acos, margin on y."""
    cos = F.normalize(x, dim=1) @ F.normalize(weight, dim=1).t()
    theta = torch.acos(cos.clamp(-1, 1))
    m = torch.as_tensor(margins, dtype=x.dtype).expand(cos.shape[1])
    one_hot = F.one_hot(target, cos.shape[1]).to(x.dtype)
    logits = scale * torch.cos(theta + one_hot * m[target][:, None])
    return F.cross_entropy(logits, target)


def reference_monotonic(x, weight, target, margin, scale):
    """ArcFace with its fallback cos(t) - m sin(m) where t + m >= pi."""
    cos = F.normalize(x, dim=1) @ F.normalize(weight, dim=1).t()
    cos_y = cos.gather(1, target[:, None])
    theta_y = torch.acos(cos_y.clamp(-1, 1))
    phi = torch.where(theta_y + margin < math.pi,
                      torch.cos(theta_y + margin),
                      cos_y - margin * math.sin(margin))
    logits = scale * cos.scatter(1, target[:, None], phi)
    return F.cross_entropy(logits, target)


def build_pair(margin, overflow='literal', num_subcenters=1):
    torch.manual_seed(0)
    ours = AngularMarginHead(
        num_classes=C,
        in_channels=D,
        scale=S,
        margin=margin,
        overflow=overflow,
        num_subcenters=num_subcenters).double()
    upstream = ArcFaceClsHead(
        num_classes=C,
        in_channels=D,
        scale=S,
        margins=float(margin),
        num_subcenters=num_subcenters).double()
    upstream.norm_product.weight.data.copy_(ours.norm_product.weight.data)
    return ours, upstream


def loss_and_grads(head, x, target):
    x = x.clone().requires_grad_(True)
    head.zero_grad()
    loss = head.loss((x, ), samples(target))['loss']
    loss.backward()
    return loss.detach(), x.grad, head.norm_product.weight.grad.clone()


@pytest.mark.parametrize('overflow', ['literal', 'monotonic'])
@pytest.mark.parametrize('num_subcenters', [1, 3])
def test_equals_arcface_where_theta_plus_m_below_pi(overflow,
                                                    num_subcenters):
    m = 0.5
    ours, upstream = build_pair(m, overflow, num_subcenters)
    target = torch.arange(12) % C
    # target angles spread over (0, pi - m): the two formulas agree
    thetas = np.linspace(0.05, math.pi - m - 0.05, 12)
    if num_subcenters == 1:
        x = make_inputs(thetas, target, ours.norm_product.weight.data)
    else:
        x = torch.randn(12, D, dtype=torch.float64)
    with torch.no_grad():
        cos_y = upstream.norm_product(x).gather(1, target[:, None])
    assert (torch.acos(cos_y) + m < math.pi).all()  # precondition
    lo, gxo, gwo = loss_and_grads(ours, x, target)
    lu, gxu, gwu = loss_and_grads(upstream, x, target)
    torch.testing.assert_close(lo, lu, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gxo, gxu, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(gwo, gwu, rtol=1e-8, atol=1e-10)
    assert torch.isfinite(lo)


def test_literal_equals_eq51_everywhere_and_monotonic_equals_arcface():
    m = 0.5
    literal, upstream = build_pair(m, 'literal')
    monotonic, _ = build_pair(m, 'monotonic')
    weight = literal.norm_product.weight.data
    target = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0])
    # half of the targets beyond pi - m: the formulas differ there
    thetas = [0.3, 1.0, 2.0, 2.5, 2.8, 2.9, 3.0, 3.1]
    x = make_inputs(thetas, target, weight)

    lo, gxo, gwo = loss_and_grads(literal, x, target)
    xr = x.clone().requires_grad_(True)
    wr = weight.clone().requires_grad_(True)
    lr = reference_eq51(xr, wr, target, m, S)
    lr.backward()
    # acos loses digits near theta = pi: float64 agreement to ~1e-8
    torch.testing.assert_close(lo, lr.detach(), rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(gxo, xr.grad, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(gwo, wr.grad, rtol=1e-6, atol=1e-8)

    lm, gxm, gwm = loss_and_grads(monotonic, x, target)
    xr = x.clone().requires_grad_(True)
    wr = weight.clone().requires_grad_(True)
    lref = reference_monotonic(xr, wr, target, m, S)
    lref.backward()
    torch.testing.assert_close(lm, lref.detach(), rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(gxm, xr.grad, rtol=1e-6, atol=1e-8)
    # ... which is MMPretrain's ArcFaceClsHead
    lu, gxu, _ = loss_and_grads(upstream, x, target)
    torch.testing.assert_close(lm, lu, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(gxm, gxu, rtol=1e-6, atol=1e-8)
    # and the two modes really differ on these inputs
    assert not torch.allclose(lo, lm)


def test_easy_margin_matches_upstream_easy_margin():
    torch.manual_seed(1)
    ours = AngularMarginHead(C, D, scale=S, margin=0.4,
                             overflow='easy').double()
    up = ArcFaceClsHead(C, D, scale=S, margins=0.4, easy_margin=True).double()
    up.norm_product.weight.data.copy_(ours.norm_product.weight.data)
    target = torch.arange(8) % C
    x = make_inputs(np.linspace(0.2, 2.8, 8), target,
                    ours.norm_product.weight.data)
    lo, gxo, _ = loss_and_grads(ours, x, target)
    lu, gxu, _ = loss_and_grads(up, x, target)
    torch.testing.assert_close(lo, lu)
    torch.testing.assert_close(gxo, gxu)


def test_per_class_margins_follow_eq51():
    margins = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    head = AngularMarginHead(C, D, scale=S, margin=0.0).double()
    head.set_margins(margins)
    target = torch.tensor([0, 1, 2, 3, 4, 5, 6, 6, 2])
    x = torch.randn(9, D, dtype=torch.float64)
    lo, gxo, _ = loss_and_grads(head, x, target)
    xr = x.clone().requires_grad_(True)
    w = head.norm_product.weight.data.clone()
    lr = reference_eq51(xr, w, target, torch.tensor(margins).double(), S)
    lr.backward()
    torch.testing.assert_close(lo, lr.detach())
    torch.testing.assert_close(gxo, xr.grad)


def test_no_nan_at_cos_plus_minus_one():
    """Features exactly along / against the target weight (cos = +-1)."""
    head = AngularMarginHead(3, 4, scale=S, margin=0.5)
    w = torch.tensor([[1., 0, 0, 0], [0, 1., 0, 0], [0, 0, 1., 0]])
    head.norm_product.weight.data.copy_(w)
    x = torch.tensor([[2., 0, 0, 0], [0, -3., 0, 0], [0, 0, 1e-3, 0]],
                     requires_grad=True)
    target = torch.tensor([0, 1, 2])
    logits = head((x, ), target)
    # cos(0 + m) and cos(pi + m) = -cos(m), literally
    torch.testing.assert_close(logits[0, 0], torch.tensor(S * math.cos(0.5)))
    torch.testing.assert_close(logits[1, 1],
                               torch.tensor(-S * math.cos(0.5)))
    loss = F.cross_entropy(logits, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(x.grad).all()
    assert torch.isfinite(head.norm_product.weight.grad).all()
    for mode in ('monotonic', 'easy'):
        h = AngularMarginHead(3, 4, scale=S, margin=0.5, overflow=mode)
        h.norm_product.weight.data.copy_(w)
        x.grad = None
        F.cross_entropy(h((x, ), target), target).backward()
        assert torch.isfinite(x.grad).all()


def test_eval_and_predict_use_plain_scaled_cosine():
    head = AngularMarginHead(C, D, scale=S, margin=0.5).double()
    x = torch.randn(5, D, dtype=torch.float64)
    cos = F.normalize(x) @ F.normalize(head.norm_product.weight).t()
    torch.testing.assert_close(head((x, )), S * cos)
    preds = head.predict((x, ))
    scores = torch.stack([p.pred_score for p in preds])
    torch.testing.assert_close(scores, F.softmax(S * cos, dim=1))
    # training logits differ only at the target
    target = torch.tensor([0, 1, 2, 3, 4])
    train_logits = head((x, ), target)
    mask = F.one_hot(target, C).bool()
    torch.testing.assert_close(train_logits[~mask], (S * cos)[~mask])
    assert (train_logits[mask] < (S * cos)[mask]).all()


@pytest.mark.parametrize('value', [
    0.3, 0, 1, np.float32(0.3), np.float64(0.25),
    np.array(0.2), torch.tensor(0.35)
])
def test_set_margins_scalar_types(value):
    head = AngularMarginHead(C, D)
    ptr = head.margins.data_ptr()
    head.set_margins(value)
    expected = float(np.asarray(value if not isinstance(value, torch.Tensor)
                                else value.item()))
    torch.testing.assert_close(head.margins, torch.full((C, ), expected))
    assert head.margins.data_ptr() == ptr  # updated in place


@pytest.mark.parametrize('value', [
    [0.1 * i for i in range(C)],
    np.linspace(0, 0.6, C),
    torch.linspace(0, 0.6, C),
])
def test_set_margins_per_class(value):
    head = AngularMarginHead(C, D)
    head.set_margins(value)
    torch.testing.assert_close(
        head.margins, torch.as_tensor(np.asarray(value), dtype=torch.float32))


@pytest.mark.parametrize('value, match', [
    (-0.1, '-0.1'),
    (math.pi, '3.14159'),
    (float('nan'), 'nan'),
    (torch.tensor(4.0), '4.0'),
    ([0.1] * (C - 1), 'has 6 values but num_classes=7'),
    ([0.1] * (C - 1) + [5.0], '5.0'),
    ('abc', 'abc'),
])
def test_set_margins_rejects(value, match):
    head = AngularMarginHead(C, D)
    with pytest.raises((ValueError, TypeError), match=match):
        head.set_margins(value)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(scale=0), ValueError, '`scale`.*0'),
    (dict(scale=-30.), ValueError, '`scale`.*-30'),
    (dict(num_classes=0), ValueError, '`num_classes`.*0'),
    # a wrong type is a TypeError (one argument-check style, issue 15)
    (dict(in_channels=2.5), TypeError, '`in_channels`.*2.5'),
    (dict(margin=3.2), ValueError, '`margin`.*3.2'),
    (dict(margin=-0.5), ValueError, '`margin`.*-0.5'),
    (dict(overflow='wrap'), ValueError, "`overflow`.*'wrap'"),
])
def test_invalid_build_args(kwargs, error, match):
    cfg = dict(type='AngularMarginHead', num_classes=C, in_channels=D)
    cfg.update(kwargs)
    with pytest.raises(error, match=match):
        MODELS.build(cfg)


def test_margins_persist_in_state_dict_and_old_checkpoints_load():
    head = AngularMarginHead(C, D, margin=0.0)
    head.set_margins(0.42)
    state = head.state_dict()
    assert 'margins' in state
    torch.testing.assert_close(state['margins'], torch.full((C, ), 0.42))

    fresh = AngularMarginHead(C, D, margin=0.0)
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.margins, torch.full((C, ), 0.42))
    # the loaded margin is used (no stale cached sin/cos of the margin)
    x = torch.randn(3, D)
    t = torch.tensor([0, 1, 2])
    torch.testing.assert_close(fresh((x, ), t), head((x, ), t))

    # a checkpoint without margins (ArcFaceClsHead's) loads, even strictly
    upstream = ArcFaceClsHead(C, D, margins=0.3)
    assert 'margins' not in upstream.state_dict()
    target = AngularMarginHead(C, D, margin=0.2)
    with pytest.warns(UserWarning, match='keeping the current margins'):
        target.load_state_dict(upstream.state_dict(), strict=True)
    torch.testing.assert_close(target.margins, torch.full((C, ), 0.2))
    torch.testing.assert_close(target.norm_product.weight,
                               upstream.norm_product.weight)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        target.load_state_dict(state, strict=True)  # no warning with margins


def test_old_margins_name_warns_and_builds_the_same_head():
    """``margins=`` (deprecated, the ArcFaceClsHead name) is ``margin=``:
    same weights, margins and training loss, the loss checked against eq.
    51 computed here (``reference_eq51``)."""
    margins = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    torch.manual_seed(0)
    with pytest.warns(DeprecationWarning,
                      match='AngularMarginHead: the argument `margins` is '
                      'deprecated.*use `margin`'):
        old = MODELS.build(dict(type='AngularMarginHead', num_classes=C,
                                in_channels=D, scale=S, margins=margins))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        new = MODELS.build(dict(type='AngularMarginHead', num_classes=C,
                                in_channels=D, scale=S, margin=margins))
    assert old.state_dict().keys() == new.state_dict().keys()
    for key, value in new.state_dict().items():
        torch.testing.assert_close(old.state_dict()[key], value)
    target = torch.tensor([0, 1, 2, 3, 4, 5, 6, 6, 2])
    x = torch.randn(9, D, dtype=torch.float64)
    old, new = old.double(), new.double()
    lr = reference_eq51(x, new.norm_product.weight.detach(), target,
                        torch.tensor(margins).double(), S)
    for head in (old, new):
        loss = head.loss((x, ), samples(target))['loss']
        torch.testing.assert_close(loss, lr)
    with pytest.raises(TypeError, match='AngularMarginHead: got both '
                       '`margins`.*and `margin`; pass only `margin`'):
        AngularMarginHead(C, D, margins=0.1, margin=0.2)

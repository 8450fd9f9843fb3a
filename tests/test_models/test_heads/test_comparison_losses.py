"""Table 8 losses against their papers' formulas on hand-computed examples.

Most examples use x = (3, 4) (norm 5) and unit class directions
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


# ----------------------------------------------------------------- Center --
def test_center_loss_value_and_paper_update():
    loss = MODELS.build(
        dict(type='CenterLoss', num_classes=3, feat_dim=2, loss_weight=1.0,
             alpha=0.5))
    loss.centers.copy_(torch.tensor([[0.0, 1.0], [1.0, 1.0], [5.0, 5.0]]))
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 0])
    # 1/2 * mean(||(1,1)||^2, ||(2,-1)||^2, ||(0,0)||^2) = 1/2 * 7/3
    assert loss(x, y).item() == pytest.approx(7 / 6)
    # eq. 4: c0 -= .5 * ((-1,-1) + (0,0)) / 3 ; c1 -= .5 * (-2, 1) / 2
    torch.testing.assert_close(
        loss.centers,
        torch.tensor([[1 / 6, 7 / 6], [1.5, 0.75], [5.0, 5.0]]))
    loss.eval()
    before = loss.centers.clone()
    loss(x, y)
    assert torch.equal(loss.centers, before)  # no update in eval mode
    assert 'centers' in loss.state_dict()


def test_center_loss_head_combines_softmax_and_center():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='CenterLossHead', num_classes=3, in_channels=4,
             center_loss=dict(type='CenterLoss', loss_weight=0.1)))
    x = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor([0, 1, 2, 1, 0])
    losses = head.loss((x, ), samples(y))
    torch.testing.assert_close(losses['loss_ce'],
                               F.cross_entropy(head.fc(x), y))
    # Centres start at zero: lambda/2 * mean ||x||^2.
    torch.testing.assert_close(losses['loss_center'],
                               0.1 * 0.5 * x.pow(2).sum(1).mean())
    losses['loss_center'].backward()
    torch.testing.assert_close(x.grad, 0.1 * x.detach() / 5)


# ------------------------------------------------------------- SphereFace --
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


# ---------------------------------------------------------------- CosFace --
def _set_norm_product(head, weight):
    with torch.no_grad():
        head.norm_product.weight.copy_(weight)


def test_cosface_hand_computed():
    head = MODELS.build(
        dict(type='CosFaceHead', num_classes=2, in_channels=2, scale=2.0,
             margin=0.5))
    _set_norm_product(head, torch.tensor([[2.0, 0.0], [0.0, 0.5]]))
    # logits = 2 * (.6 - .5, .8) = (.2, 1.6): CE = log(1 + e^1.4)
    out = head.loss((X, ), samples([0]))['loss']
    assert out.item() == pytest.approx(_log1pexp(1.4), rel=1e-5)
    torch.testing.assert_close(head((X, )), torch.tensor([[1.2, 1.6]]))


def test_cosface_zero_margin_is_normalised_softmax():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='CosFaceHead', num_classes=5, in_channels=3, scale=7.0,
             margin=0.0))
    x = torch.randn(4, 3)
    y = torch.tensor([0, 4, 2, 2])
    logits = 7.0 * F.normalize(x) @ F.normalize(head.norm_product.weight).t()
    torch.testing.assert_close(
        head.loss((x, ), samples(y))['loss'], F.cross_entropy(logits, y))


# ------------------------------------------------------------------- COCO --
def test_coco_hand_computed():
    head = MODELS.build(
        dict(type='COCOHead', num_classes=2, in_channels=2, scale=2.0))
    with torch.no_grad():
        head.centroids.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    # logits = 2 * (.6, .8); label 1: CE = log(1 + e^-.4)
    out = head.loss((X, ), samples([1]))['loss']
    assert out.item() == pytest.approx(_log1pexp(-0.4), rel=1e-5)
    torch.testing.assert_close(head((X, )), torch.tensor([[1.2, 1.6]]))


# -------------------------------------------------------------------- LGM --
def test_lgm_hand_computed():
    head = MODELS.build(
        dict(type='LGMHead', num_classes=2, in_channels=2, alpha=0.5,
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


def test_lgm_zero_margin_is_softmax_of_negative_distances():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='LGMHead', num_classes=4, in_channels=3, alpha=0.0))
    x = torch.randn(5, 3)
    y = torch.tensor([0, 1, 2, 3, 3])
    d = 0.5 * torch.cdist(x, head.means).pow(2)
    out = head.loss((x, ), samples(y))
    torch.testing.assert_close(out['loss_cls'], F.cross_entropy(-d, y))


# ----------------------------------------------------- Pairwise Confusion --
def test_pairwise_confusion_hand_computed():
    probs = torch.tensor([[0.8, 0.2], [0.5, 0.5], [0.6, 0.4], [0.9, 0.1]])
    logits = probs.log()
    y = torch.tensor([0, 1, 0, 0])
    ce = -(math.log(0.8) + math.log(0.5) + math.log(0.6) + math.log(0.9)) / 4
    # pairs (0, 2): same label -> gamma 0; (1, 3): D = .4^2 + .4^2 = .32
    loss = MODELS.build(dict(type='PairwiseConfusionLoss',
                             confusion_weight=10.0))
    assert loss(logits, y).item() == pytest.approx(ce + 10 * 0.32 / 4,
                                                   rel=1e-5)
    # The released code's variant: unsquared norm, every pair.
    rel = MODELS.build(
        dict(type='PairwiseConfusionLoss', confusion_weight=10.0,
             squared=False, only_different_labels=False))
    expect = ce + 10 * (math.sqrt(0.08) + math.sqrt(0.32)) / 4
    assert rel(logits, y).item() == pytest.approx(expect, rel=1e-5)
    # Odd batch: the last sample is unpaired; batch of one: plain CE.
    assert loss(logits[:1], y[:1]).item() == pytest.approx(-math.log(0.8),
                                                           rel=1e-6)


def test_pairwise_confusion_in_linear_head():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='LinearClsHead', num_classes=3, in_channels=4,
             loss=dict(type='PairwiseConfusionLoss', confusion_weight=0.0)))
    x = torch.randn(4, 4)
    y = torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(
        head.loss((x, ), samples(y))['loss'],
        F.cross_entropy(head.fc(x), y))


# ------------------------------------------------------------- validation --
@pytest.mark.parametrize('cfg,match', [
    (dict(type='SphereFaceHead', margin=1.5), 'margin'),
    (dict(type='SphereFaceHead', margin=0), 'margin'),
    (dict(type='SphereFaceHead', lambda_min=-1.0), 'lambda_min'),
    (dict(type='CosFaceHead', margin=-0.1), 'margin'),
    (dict(type='CosFaceHead', margin=2.5), 'margin'),
    (dict(type='CosFaceHead', scale=0.0), 'scale'),
    (dict(type='COCOHead', scale=-1.0), 'scale'),
    (dict(type='LGMHead', alpha=-0.1), 'alpha'),
    (dict(type='LGMHead', lambda_lkd=float('nan')), 'lambda_lkd'),
    (dict(type='CenterLossHead', num_classes=0), 'num_classes'),
    (dict(type='CenterLossHead',
          center_loss=dict(type='CenterLoss', alpha=1.5)), 'alpha'),
    (dict(type='CenterLossHead',
          center_loss=dict(type='CenterLoss', feat_dim=3)), 'feat_dim'),
])
def test_bad_head_arguments(cfg, match):
    full = dict(num_classes=3, in_channels=4)
    full.update(cfg)
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(full)


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match='confusion_weight'):
        MODELS.build(dict(type='PairwiseConfusionLoss', confusion_weight=-1))
    with pytest.raises(TypeError, match='feat_dim'):
        MODELS.build(dict(type='CenterLoss', num_classes=2, feat_dim='8'))


@pytest.mark.parametrize('head', [
    dict(type='CenterLossHead'), dict(type='SphereFaceHead'),
    dict(type='CosFaceHead'), dict(type='COCOHead'), dict(type='LGMHead')
])
def test_heads_train_and_predict_finite(head):
    torch.manual_seed(0)
    head = MODELS.build(dict(num_classes=3, in_channels=4, **head))
    head.init_weights()
    x = torch.randn(4, 4, requires_grad=True)
    losses = head.loss((x, ), samples([0, 1, 2, 1]))
    total = sum(losses.values())
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(x.grad).all()
    preds = head.predict((x.detach(), ))
    assert preds[0].pred_score.shape == (3, )


@pytest.mark.parametrize('head', [
    dict(type='CenterLossHead'),
    dict(type='SphereFaceHead', margin=4),
    dict(type='CosFaceHead', scale=16.0, margin=0.35),
    dict(type='COCOHead', scale=16.0),
    dict(type='LGMHead', alpha=0.1),
    dict(type='LinearClsHead', loss=dict(type='PairwiseConfusionLoss')),
])
def test_heads_learn_separable_features(head):
    """A learnable linear embedding + each head separates 4 Gaussian blobs."""
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 3
    y = torch.arange(64) % 4
    x = centres[y] + 0.3 * torch.randn(64, 8)
    embed = torch.nn.Linear(8, 6)
    head = MODELS.build(dict(num_classes=4, in_channels=6, **head))
    head.init_weights()
    params = list(embed.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    for _ in range(150):
        losses = head.loss((embed(x), ), samples(y))
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
    head.eval()
    with torch.no_grad():
        pred = head((embed(x), )).argmax(1)
    assert (pred == y).float().mean() > 0.95


def test_cosface_margins_survive_state_dict_round_trip():
    """Resume bug: CosFace inherited ArcFaceClsHead's non-persistent
    ``margins``, so a margin set by a hook was lost on resume."""
    head = MODELS.build(
        dict(type='CosFaceHead', num_classes=3, in_channels=4, margin=0.1))
    head.set_margins(0.3)
    state = head.state_dict()
    assert 'margins' in state
    fresh = MODELS.build(
        dict(type='CosFaceHead', num_classes=3, in_channels=4, margin=0.1))
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.margins, torch.full((3, ), 0.3))
    x = torch.randn(2, 4)
    y = torch.tensor([0, 2])
    torch.testing.assert_close(fresh((x, ), y), head((x, ), y))

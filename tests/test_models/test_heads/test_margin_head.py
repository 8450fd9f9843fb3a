"""The margin-head family (MarginHead / CosineMarginHead) against numpy.

The oracle computes every head's logits in float64 numpy from the
definitions: ``s(x) * g_j(x)``, with the target's ``g_y`` replaced by the
head's margin function in training.
"""
import inspect
import math
import uuid
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmpretrain.engine.hooks import SetAdaptiveMarginsHook
from mmpretrain.models.heads import ArcFaceClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.engine.hooks import MarginScheduleHook
from projects.fgvc_aam.models.heads import (AngularMarginHead, COCOHead,
                                            CosFaceHead, LGMHead,
                                            SphereFaceHead)
from projects.fgvc_aam.models.heads.margin_head import (DEFAULT_SCALE,
                                                        CosineMarginHead,
                                                        MarginHead)
from tests.helpers import samples

K, C = 5, 6
TARGET = np.array([0, 3, 4, 1, 3, 2])

HEADS = [
    dict(type='AngularMarginHead', scale=30.0, margin=0.5),
    dict(type='AngularMarginHead', margin=1.2, overflow='monotonic'),
    dict(type='AngularMarginHead', margin=1.2, overflow='easy'),
    dict(type='CosFaceHead', scale=16.0, margin=0.35),
    dict(type='SphereFaceHead', margin=3),
    dict(type='COCOHead', scale=8.0),
    dict(type='LGMHead', margin=0.3),
]


def _unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def oracle(cfg, head, x, target=None, lam=0.0):
    """Logits of ``head`` from the papers' formulas, in numpy float64."""
    kind = cfg['type']
    if kind == 'LGMHead':
        mu = head.means.detach().double().numpy()
        d = 0.5 * ((x[:, None, :] - mu[None]) ** 2).sum(-1)
        logits = -d
        if target is not None:
            rows = np.arange(len(x))
            logits[rows, target] = -(1 + cfg['margin']) * d[rows, target]
        return logits
    weight = {
        'SphereFaceHead': lambda: head.weight,
        'COCOHead': lambda: head.centroids,
    }.get(kind, lambda: head.norm_product.weight)()
    cos = _unit(x) @ _unit(weight.detach().double().numpy()).T
    scale = (np.linalg.norm(x, axis=1, keepdims=True)
             if kind == 'SphereFaceHead' else head.scale)
    if target is None:
        return scale * cos
    rows = np.arange(len(x))
    c = cos[rows, target]
    if kind in ('AngularMarginHead', 'CosFaceHead'):
        # the configured margin as stored (a float32 buffer)
        margin = np.float64(np.float32(cfg['margin']))
    theta = np.arccos(np.clip(c, -1, 1))
    if kind == 'AngularMarginHead':
        m = margin
        phi = np.cos(theta + m)
        if head.overflow == 'monotonic':
            phi = np.where(theta + m < math.pi, phi, c - m * math.sin(m))
        elif head.overflow == 'easy':
            phi = np.where(c > 0, phi, c)
    elif kind == 'CosFaceHead':
        phi = c - margin
    elif kind == 'SphereFaceHead':
        m = cfg['margin']
        k = np.floor(m * theta / math.pi)
        psi = (-1.0)**k * np.cos(m * theta) - 2 * k
        phi = (lam * c + psi) / (1 + lam)
    else:  # COCO: no margin
        phi = c
    cos[rows, target] = phi
    return scale * cos


@pytest.mark.parametrize('cfg', HEADS, ids=lambda c: str(list(c.values())))
def test_logits_match_numpy_oracle(cfg):
    torch.manual_seed(0)
    head = MODELS.build(dict(num_classes=K, in_channels=C, **cfg)).double()
    assert isinstance(head, MarginHead)
    x = np.random.default_rng(0).normal(size=(6, C)) * 3
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(
        head((xt, )).detach().numpy(), oracle(cfg, head, x), rtol=1e-9)
    kwargs = dict(lam=2.5) if cfg['type'] == 'SphereFaceHead' else {}
    train = head((xt, ), torch.from_numpy(TARGET), **kwargs)
    np.testing.assert_allclose(
        train.detach().numpy(),
        oracle(cfg, head, x, TARGET, **kwargs),
        rtol=1e-9,
        atol=1e-9)


@pytest.mark.parametrize('cfg', HEADS, ids=lambda c: str(list(c.values())))
def test_feature_check_and_half_features(cfg):
    head = MODELS.build(dict(num_classes=K, in_channels=C, **cfg))
    with pytest.raises(ValueError,
                       match=f"{cfg['type']} needs \\(N, C\\) features"):
        head((torch.randn(2, C, 3, 3), ))
    # half-precision features (--amp) are cast to the weights' dtype
    x = torch.randn(4, C)
    out = head((x.half(), ))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, head((x.half().float(), )))


def _oracle_lam(cfg, head):
    """SphereFace's training lambda (the annealing schedule, step 0)."""
    return (dict(lam=head.current_lambda().item())
            if cfg['type'] == 'SphereFaceHead' else {})


def _numpy_ce(logits, target):
    """Mean cross-entropy of (N, K) logits with index or (N, K) targets."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    if target.ndim == 1:
        target = np.eye(logits.shape[1])[target]
    return -(target * log_p).sum(axis=1).mean()


@pytest.mark.parametrize('cfg', HEADS, ids=lambda c: str(list(c.values())))
def test_cal_acc_reports_top_k_of_the_evaluation_logits(cfg):
    """``cal_acc`` works in every head (CosFaceHead used to accept and
    ignore it): top-k accuracy, in percent, of the logits ``predict`` ranks
    (no margin); the loss itself is unchanged."""
    torch.manual_seed(0)
    plain = MODELS.build(dict(num_classes=K, in_channels=C, **cfg)).double()
    torch.manual_seed(0)
    head = MODELS.build(
        dict(num_classes=K, in_channels=C, cal_acc=True, topk=(1, 2),
             **cfg)).double()
    x = np.random.default_rng(1).normal(size=(6, C)) * 3
    xt = torch.from_numpy(x)
    losses = head.loss((xt, ), samples(TARGET))
    rank = np.argsort(-oracle(cfg, head, x), axis=1)
    for k in (1, 2):
        hits = (rank[:, :k] == TARGET[:, None]).any(axis=1)
        assert losses[f'accuracy_top-{k}'].item() == pytest.approx(
            100.0 * hits.mean())
    reference = plain.loss((xt, ), samples(TARGET))
    assert not any(key.startswith('accuracy') for key in reference)
    for key, value in reference.items():
        torch.testing.assert_close(losses[key], value)
    # accuracy is pointless with batch-augmentation targets: refused
    soft = [s.set_gt_score(torch.full((K, ), 1.0 / K)) for s in samples(
        TARGET)]
    with pytest.raises(ValueError, match=f"{cfg['type']}: `cal_acc=True` "
                       'needs hard labels'):
        head.loss((xt, ), soft)
    with pytest.raises(TypeError, match='`cal_acc`'):
        MODELS.build(dict(num_classes=K, in_channels=C, cal_acc='yes', **cfg))


@pytest.mark.parametrize('cfg', HEADS, ids=lambda c: str(list(c.values())))
def test_loss_is_cross_entropy_of_margin_logits_also_with_soft_targets(cfg):
    """One training loss for the family: the margin at ``gt_label``, the
    cross-entropy against ``gt_score`` when a batch augmentation set it (as
    ``ArcFaceClsHead``; SphereFace and L-GM used to ignore ``gt_score``)."""
    torch.manual_seed(0)
    head = MODELS.build(dict(num_classes=K, in_channels=C, **cfg)).double()
    x = np.random.default_rng(2).normal(size=(6, C)) * 3
    logits = oracle(cfg, head, x, TARGET, **_oracle_lam(cfg, head))
    key = 'loss_cls' if cfg['type'] == 'LGMHead' else 'loss'
    hard = head.eval().loss((torch.from_numpy(x), ), samples(TARGET))
    assert hard[key].item() == pytest.approx(_numpy_ce(logits, TARGET),
                                             rel=1e-9)
    score = np.random.default_rng(3).dirichlet(np.ones(K), size=len(TARGET))
    soft = [
        DataSample().set_gt_label(int(y)).set_gt_score(torch.from_numpy(q))
        for y, q in zip(TARGET, score)
    ]
    out = head.loss((torch.from_numpy(x), ), soft)
    assert out[key].item() == pytest.approx(_numpy_ce(logits, score),
                                            rel=1e-9)


#: (head, margin, scale): which of the two family arguments each head has
INTERFACE = [
    (AngularMarginHead, True, True),
    (CosFaceHead, True, True),
    (SphereFaceHead, True, False),
    (COCOHead, False, True),
    (LGMHead, True, False),
]


@pytest.mark.parametrize('cls, has_margin, has_scale', INTERFACE,
                         ids=lambda v: getattr(v, '__name__', str(v)))
def test_one_interface_margin_scale_and_clshead_arguments(
        cls, has_margin, has_scale):
    params = inspect.signature(cls).parameters
    assert list(params)[:2] == ['num_classes', 'in_channels']
    assert ('margin' in params) == has_margin
    assert ('scale' in params) == has_scale
    if has_scale:  # one default scale, defined once
        assert params['scale'].default is DEFAULT_SCALE
    assert list(params)[-4:] == ['loss', 'topk', 'cal_acc', 'init_cfg']
    for gone in ('margins', 'alpha', 'easy_margin', 'kwargs'):
        assert gone not in params, gone
    # a meaningless argument is refused, not ignored
    for name, value in (('margin', 0.1), ('scale', 30.0)):
        if name not in params:
            with pytest.raises(TypeError, match=f"'{name}'"):
                cls(num_classes=K, in_channels=C, **{name: value})


@pytest.mark.parametrize('kind', [c.__name__ for c, _, _ in INTERFACE])
def test_topk_is_checked_and_an_int_means_one_k(kind):
    for topk, error in ((0, ValueError), ((), ValueError),
                        ((1, 0), ValueError), ('1', TypeError),
                        (1.0, TypeError)):
        with pytest.raises(error, match=f'{kind}.*`topk`'):
            MODELS.build(dict(type=kind, num_classes=K, in_channels=C,
                              topk=topk))
    head = MODELS.build(dict(type=kind, num_classes=K, in_channels=C,
                             topk=2, cal_acc=True))
    losses = head.loss((torch.randn(6, C), ), samples(TARGET))
    assert [k for k in losses if k.startswith('accuracy')] == [
        'accuracy_top-2']


def test_default_scale_is_thirty_for_every_scaled_head():
    """The family default (configs/aam/README.md, "Scale"): 30, also for
    CosFace (paper 64) and COCO (formerly 16)."""
    assert DEFAULT_SCALE == 30.0
    x = torch.randn(4, C, dtype=torch.float64)
    for kind in ('AngularMarginHead', 'CosFaceHead', 'COCOHead'):
        head = MODELS.build(dict(type=kind, num_classes=K,
                                 in_channels=C)).double()
        assert head.scale == 30.0
        weight = (head.centroids
                  if kind == 'COCOHead' else head.norm_product.weight)
        cos = _unit(x.numpy()) @ _unit(weight.detach().numpy()).T
        np.testing.assert_allclose(head((x, )).detach().numpy(), 30.0 * cos,
                                   rtol=1e-12)


class ShiftedCosineHead(CosineMarginHead):
    """A new head: overrides only the target logit ``cos(theta_y) - 2m``."""

    def target_score(self, score_y, target):
        return score_y - 2 * self.margins[target]


def test_new_cosine_head_gets_margin_machinery_for_free():
    head = ShiftedCosineHead(K, C, scale=4.0, margin=0.1)
    assert isinstance(head, ArcFaceClsHead)  # SetAdaptiveMarginsHook accepts
    head.set_margins([0.1, 0.2, 0.3, 0.4, 0.5])
    state = head.state_dict()
    torch.testing.assert_close(state['margins'],
                               torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]))
    fresh = ShiftedCosineHead(K, C, scale=4.0, margin=0.0)
    fresh.load_state_dict(state, strict=True)
    x = torch.randn(3, C)
    y = torch.tensor([4, 0, 2])
    out = fresh((x, ), y)
    torch.testing.assert_close(out, head((x, ), y))
    cos = torch.nn.functional.normalize(x) @ torch.nn.functional.normalize(
        fresh.norm_product.weight).t()
    expected = 4.0 * cos
    expected[[0, 1, 2], y] -= 4.0 * 2 * torch.tensor([0.5, 0.1, 0.3])
    torch.testing.assert_close(out, expected)
    # an old state dict without margins keeps the current ones and warns
    old = {k: v for k, v in state.items() if k != 'margins'}
    with pytest.warns(UserWarning, match='ShiftedCosineHead.*keeping the '
                      'current margins'):
        fresh.load_state_dict(old, strict=True)
    with pytest.raises(ValueError,
                       match=r'ShiftedCosineHead.set_margins.*\[0, pi\).*4.0'):
        fresh.set_margins(4.0)


def test_cosine_head_old_margins_name_warns_and_builds_the_same_head():
    """``margins=`` (deprecated) is ``margin=``: same weights, margins and
    logits, checked against ``s (cos theta - 2 m)`` computed here."""
    torch.manual_seed(0)
    with pytest.warns(DeprecationWarning,
                      match='ShiftedCosineHead: the argument `margins` is '
                      'deprecated.*use `margin`'):
        old = ShiftedCosineHead(K, C, scale=4.0, margins=[0.1, 0, 0, 0.3, 0])
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        new = ShiftedCosineHead(K, C, scale=4.0, margin=[0.1, 0, 0, 0.3, 0])
    assert old.state_dict().keys() == new.state_dict().keys()
    for key, value in new.state_dict().items():
        torch.testing.assert_close(old.state_dict()[key], value)
    x = torch.randn(2, C)
    y = torch.tensor([3, 0])
    cos = torch.nn.functional.normalize(x) @ torch.nn.functional.normalize(
        new.norm_product.weight).t()
    expected = 4.0 * cos
    expected[[0, 1], y] -= 4.0 * 2 * torch.tensor([0.3, 0.1])
    torch.testing.assert_close(old((x, ), y), expected)
    torch.testing.assert_close(new((x, ), y), expected)
    with pytest.raises(TypeError, match='ShiftedCosineHead: got both '
                       '`margins`.*and `margin`'):
        ShiftedCosineHead(K, C, margins=0.1, margin=0.1)


def test_cosine_heads_keep_no_arcface_margin_state():
    """No cached sin/cos of the margin, no ``easy_margin`` (the rule is
    ``overflow``; ``AngularMarginHead`` used to store and never read it)."""
    for kind in ('AngularMarginHead', 'CosFaceHead'):
        for overflow in (('literal', 'easy')
                         if kind == 'AngularMarginHead' else (None, )):
            extra = dict(overflow=overflow) if overflow else {}
            head = MODELS.build(
                dict(type=kind, num_classes=K, in_channels=C, **extra))
            for name in ('easy_margin', 'sinm_m', 'threshold'):
                assert not hasattr(head, name), (kind, name)
            assert 'margins' in head.state_dict()


class _Dataset:

    def get_gt_labels(self):
        return np.array([0, 0, 0, 0, 1, 1, 2, 3, 4, 4])


@pytest.mark.parametrize('head_type', ['AngularMarginHead', 'CosFaceHead'])
def test_margin_hooks_drive_cosine_heads(head_type):
    """MMPretrain's SetAdaptiveMarginsHook and our MarginScheduleHook."""
    head = MODELS.build(dict(type=head_type, num_classes=K, in_channels=C))
    model = torch.nn.Module()
    model.head = head
    runner = SimpleNamespace(
        model=model, train_dataloader=SimpleNamespace(dataset=_Dataset()))
    SetAdaptiveMarginsHook().before_train(runner)
    freq = np.bincount(_Dataset().get_gt_labels())**-0.25
    expect = (freq - freq.min()) / (freq.max() - freq.min()) * 0.45 + 0.05
    torch.testing.assert_close(head.margins,
                               torch.tensor(expect, dtype=torch.float32))

    hook = MarginScheduleHook(schedule='constant', margin=0.3)
    fake = SimpleNamespace(
        model=model, epoch=0, iter=0, train_dataloader=[0, 1, 2],
        message_hub=MessageHub.get_instance(f'mh_{uuid.uuid4().hex}'),
        logger=MMLogger.get_current_instance(), train_loop=None)
    hook.before_run(fake)
    hook.before_train_epoch(fake)
    torch.testing.assert_close(head.margins, torch.full((K, ), 0.3))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        fresh = MODELS.build(
            dict(type=head_type, num_classes=K, in_channels=C))
        fresh.load_state_dict(head.state_dict(), strict=True)
    torch.testing.assert_close(fresh.margins, torch.full((K, ), 0.3))


def test_arcface_hook_gives_unscaled_margin_cosines():
    head = MODELS.build(
        dict(type='CosFaceHead', num_classes=K, in_channels=C, scale=4.0))
    x = torch.randn(3, C)
    y = torch.tensor([1, 0, 4])
    torch.testing.assert_close(4.0 * head._get_logit_with_margin(x, y),
                               head((x, ), y))

"""The margin-head family (MarginHead / CosineMarginHead) against numpy.

The oracle computes every head's logits in float64 numpy from the
definitions: ``s(x) * g_j(x)``, with the target's ``g_y`` replaced by the
head's margin function in training.
"""
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

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.engine.hooks import MarginScheduleHook
from projects.fgvc_aam.models.heads.margin_head import (CosineMarginHead,
                                                         MarginHead)

K, C = 5, 6
TARGET = np.array([0, 3, 4, 1, 3, 2])

HEADS = [
    dict(type='AngularMarginHead', scale=30.0, margins=0.5),
    dict(type='AngularMarginHead', margins=1.2, overflow='monotonic'),
    dict(type='AngularMarginHead', margins=1.2, overflow='easy'),
    dict(type='CosFaceHead', scale=16.0, margin=0.35),
    dict(type='SphereFaceHead', margin=3),
    dict(type='COCOHead', scale=8.0),
    dict(type='LGMHead', alpha=0.3),
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
            logits[rows, target] = -(1 + cfg['alpha']) * d[rows, target]
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
        margin = np.float64(np.float32(cfg.get('margins', cfg.get('margin'))))
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


class ShiftedCosineHead(CosineMarginHead):
    """A new head: overrides only the target logit ``cos(theta_y) - 2m``."""

    def target_score(self, score_y, target):
        return score_y - 2 * self.margins[target]


def test_new_cosine_head_gets_margin_machinery_for_free():
    head = ShiftedCosineHead(K, C, scale=4.0, margins=0.1)
    assert isinstance(head, ArcFaceClsHead)  # SetAdaptiveMarginsHook accepts
    head.set_margins([0.1, 0.2, 0.3, 0.4, 0.5])
    state = head.state_dict()
    torch.testing.assert_close(state['margins'],
                               torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]))
    fresh = ShiftedCosineHead(K, C, scale=4.0, margins=0.0)
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

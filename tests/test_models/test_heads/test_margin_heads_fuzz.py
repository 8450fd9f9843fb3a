"""Fuzz / property tests of the margin heads (issue 7).

Seeded random sweeps (no extra dependency) over random, extreme and
degenerate features: magnitudes from 1e-30 to 1e30, batch size 1,
float16 / bfloat16 features.

Properties checked, for ``AngularMarginHead`` in its three overflow modes,
``CosFaceHead``, ``SphereFaceHead``, ``LGMHead``, and ``COCOHead``: for
finite features the training loss, every gradient and the evaluation
logits are finite; normalised heads are scale invariant where
``F.normalize`` is exact; SphereFace logits are 1-homogeneous; half
precision features under autocast give the float32 result.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401  (registers everything)
from tests.helpers import MAGNITUDES, samples

pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures('one_thread')]

C, D = 5, 12

HEADS = {
    'aam-literal': dict(type='AngularMarginHead', margin=0.5),
    'aam-monotonic': dict(type='AngularMarginHead', margin=0.5,
                          overflow='monotonic'),
    'aam-easy': dict(type='AngularMarginHead', margin=0.5, overflow='easy'),
    'aam-near-pi': dict(type='AngularMarginHead', margin=3.1),
    'cosface': dict(type='CosFaceHead'),
    'sphereface-m4': dict(type='SphereFaceHead'),
    'sphereface-pure': dict(type='SphereFaceHead', lambda_base=0.0,
                            lambda_min=0.0),
    'lgm': dict(type='LGMHead'),
    'coco': dict(type='COCOHead'),
}
#: heads whose logits only depend on the direction of the feature
NORMALISED = ('aam-literal', 'aam-monotonic', 'aam-easy', 'aam-near-pi',
              'cosface', 'coco')


def build_head(name):
    head = MODELS.build(dict(HEADS[name], num_classes=C, in_channels=D))
    head.init_weights()
    return head


def class_weight(head):
    """The (C, D) class weights / means / centres of a head."""
    if hasattr(head, 'norm_product'):
        return head.norm_product.weight
    for attr in ('weight', 'means', 'centroids'):
        if hasattr(head, attr):
            return getattr(head, attr)
    raise AttributeError(type(head).__name__)


def feature_cases(head, gen: np.random.Generator):
    """(description, features (N, D), labels (N,)) of many kinds."""
    w = F.normalize(class_weight(head).detach().float()[:C], dim=1)
    cases = []
    for n in (1, 2, 7):
        base = torch.from_numpy(gen.standard_normal((n, D))).float()
        labels = torch.from_numpy(gen.integers(0, C, n))
        for mag in (0.0, ) + MAGNITUDES:
            cases.append((f'random n={n} |x|~{mag}', base * mag, labels))
    labels = torch.tensor([0, 1, 2, 3])
    # exactly on / opposite to the target weight: cos = +-1 (acos hazards)
    cases.append(('on target', w[labels] * 3.0, labels))
    cases.append(('opposite target', -w[labels] * 3.0, labels))
    cases.append(('identical rows', torch.ones(4, D), labels))
    cases.append(('one-hot', torch.eye(D)[:4] * 1e4, labels))
    cases.append(('same label', torch.randn(4, D), torch.zeros(4).long()))
    return cases


def max_magnitude(name):
    # L-GM's loss is a squared distance: its true value overflows float32
    # beyond |x| ~ 1e19, so only finite-valued magnitudes are required.
    return 1e15 if name == 'lgm' else math.inf


@pytest.mark.parametrize('name', sorted(HEADS))
def test_head_losses_logits_and_gradients_finite(name):
    head = build_head(name)
    gen = np.random.default_rng(4)
    for desc, feats, labels in feature_cases(head, gen):
        if feats.abs().max() > max_magnitude(name):
            continue
        head.zero_grad()
        x = feats.clone().requires_grad_()
        head.train()
        losses = head.loss((x, ), samples(labels))
        total = sum(v for k, v in losses.items() if 'loss' in k)
        assert all(torch.isfinite(v).all() for v in losses.values()), \
            (desc, losses)
        total.backward()
        assert torch.isfinite(x.grad).all(), desc
        for pname, p in head.named_parameters():
            if p.grad is not None:
                assert torch.isfinite(p.grad).all(), (desc, pname)
        head.eval()
        with torch.no_grad():
            logits = head((feats, ))
        assert logits.shape == (len(labels), C)
        assert torch.isfinite(logits).all(), desc


@pytest.mark.parametrize('name', NORMALISED)
def test_normalised_heads_are_scale_invariant(name):
    """Logits of ``2^k x`` equal those of ``x`` wherever ``F.normalize`` is
    exact: ``1e-12 < ||x||`` (its eps) and ``||x||^2`` finite
    (``||x|| < 1.8e19``). Beyond, the cosines collapse to 0 (finite, tested
    above; upstream ``NormProduct``)."""
    head = build_head(name).eval()
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = head((x, ))
        for k in (-30, -10, 10, 30, 60):
            torch.testing.assert_close(head((x * 2.0**k, )), ref,
                                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name', ['sphereface-m4', 'sphereface-pure'])
def test_sphereface_logits_are_one_homogeneous_up_to_1e30(name):
    """``||x|| psi(theta)``: scaling x by 2^k scales every logit by 2^k, also
    where ``||x||^2`` overflows float32 (it used to give inf * 0 = NaN)."""
    head = build_head(name)
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(6))
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    head.eval()
    with torch.no_grad():
        ref = head((x, ))
        ref_margin = head((x, ), labels, 5.0)
        for k in (-100, -30, 30, 70, 100):  # 2^100 ~ 1.3e30
            torch.testing.assert_close(head((x * 2.0**k, )), ref * 2.0**k,
                                       rtol=1e-5, atol=0)
            torch.testing.assert_close(head((x * 2.0**k, ), labels, 5.0),
                                       ref_margin * 2.0**k, rtol=1e-5,
                                       atol=0)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('name', sorted(HEADS))
def test_half_precision_features_under_autocast(name, dtype):
    """Mixed precision (``--amp``) hands half features to the head: the
    loss must be the float32 loss of the same (rounded) features."""
    head = build_head(name).train()
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(7))
    x = x.to(dtype)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    state = {k: v.clone() for k, v in head.state_dict().items()}
    with torch.autocast('cpu', dtype=dtype):
        half = head.loss((x.clone().requires_grad_(), ), samples(labels))
    head.load_state_dict(state)  # SphereFace counts iterations
    full = head.loss((x.float(), ), samples(labels))
    assert half.keys() == full.keys()
    for key in full:
        assert torch.isfinite(half[key]).all()
        torch.testing.assert_close(half[key].float(), full[key], rtol=1e-5,
                                   atol=1e-5)

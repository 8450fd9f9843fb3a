"""SoftmaxFocalLoss against the formula -alpha_t (1 - p_t)^gamma log p_t
computed independently with numpy (float64), and gamma = 0 against torch's
cross-entropy."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def numpy_focal(logits, labels, gamma, alpha=None):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p_t = p[np.arange(len(labels)), labels]
    a_t = 1.0 if alpha is None else np.asarray(alpha)[labels]
    return -a_t * (1.0 - p_t)**gamma * np.log(p_t)


@pytest.mark.parametrize('gamma', [0.0, 0.5, 2.0, 5.0])
def test_matches_numpy_formula(gamma):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(7, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=7)
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=gamma))
    ref = numpy_focal(logits, labels, gamma)
    ours = loss(torch.from_numpy(logits), torch.from_numpy(labels))
    assert ours.item() == pytest.approx(ref.mean(), rel=1e-5)
    per_sample = loss(torch.from_numpy(logits), torch.from_numpy(labels),
                      reduction_override='none')
    np.testing.assert_allclose(per_sample.numpy(), ref, rtol=1e-5)
    summed = loss(torch.from_numpy(logits), torch.from_numpy(labels),
                  reduction_override='sum')
    assert summed.item() == pytest.approx(ref.sum(), rel=1e-5)


def test_hand_computed_two_classes():
    # logits (0, log 3): p = (1/4, 3/4); label 0: -(3/4)^2 log(1/4).
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=2.0))
    value = loss(torch.tensor([[0.0, float(np.log(3.0))]]), torch.tensor([0]))
    assert value.item() == pytest.approx(-(0.75**2) * np.log(0.25), rel=1e-6)


def test_gamma_zero_is_cross_entropy_and_alpha_weights_classes():
    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    labels = torch.tensor([0, 1, 2, 3, 3, 1])
    ce = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=0.0))
    torch.testing.assert_close(ce(logits, labels),
                               F.cross_entropy(logits, labels))
    alpha = [0.1, 0.2, 0.3, 0.4]
    weighted = MODELS.build(
        dict(type='SoftmaxFocalLoss', gamma=1.5, alpha=alpha))
    ref = numpy_focal(logits.numpy(), labels.numpy(), 1.5, alpha).mean()
    assert weighted(logits, labels).item() == pytest.approx(ref, rel=1e-5)


def test_one_hot_and_soft_targets():
    torch.manual_seed(1)
    logits = torch.randn(4, 3)
    labels = torch.tensor([2, 0, 1, 1])
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=2.0))
    torch.testing.assert_close(
        loss(logits, F.one_hot(labels, 3).float()), loss(logits, labels))
    soft = torch.tensor([[0.5, 0.5, 0.0]] * 4)
    p = logits.double().softmax(1)
    ref = -(soft.double() * (1 - p)**2 * p.log()).sum(1).mean()
    assert loss(logits, soft).item() == pytest.approx(ref.item(), rel=1e-5)


def test_in_a_linear_head_as_the_table8_configs():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='LinearClsHead', num_classes=3, in_channels=4,
             loss=dict(type='SoftmaxFocalLoss', gamma=2.0)))
    feats = torch.randn(5, 4)
    labels = [0, 2, 1, 1, 0]
    samples = [DataSample().set_gt_label(y) for y in labels]
    value = head.loss((feats, ), samples)['loss']
    with torch.no_grad():
        logits = head((feats, )).numpy()
    ref = numpy_focal(logits, np.array(labels), 2.0).mean()
    assert value.item() == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize('cfg,match', [
    (dict(gamma=-1.0), 'gamma'),
    (dict(reduction='avg'), 'reduction'),
    (dict(alpha=-0.5), 'alpha'),
])
def test_bad_arguments(cfg, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(dict(type='SoftmaxFocalLoss', **cfg))
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', alpha=[1.0, 2.0]))
    with pytest.raises(ValueError, match='2 values for 3 classes'):
        loss(torch.randn(2, 3), torch.tensor([0, 1]))


def test_sigmoid_form_stays_available_and_differs():
    """MMPretrain's FocalLoss (sigmoid, alpha = 0.25) still builds under its
    own name and computes the one-vs-all form (numpy oracle), which is not
    the softmax form."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    sigmoid = MODELS.build(dict(type='FocalLoss', gamma=2.0, alpha=0.25))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    t = np.eye(3)[labels]
    p_t = np.where(t == 1, p, 1 - p)
    a_t = np.where(t == 1, 0.25, 0.75)
    ref = (-a_t * (1 - p_t)**2 * np.log(p_t)).mean()
    ours = sigmoid(torch.from_numpy(logits), torch.from_numpy(labels))
    assert ours.item() == pytest.approx(ref, rel=1e-5)
    softmax = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=2.0))
    assert softmax(torch.from_numpy(logits),
                   torch.from_numpy(labels)).item() != pytest.approx(ref)


@pytest.mark.parametrize('gamma', [0.25, 0.5])
def test_confident_prediction_has_finite_gradient_for_gamma_below_one(gamma):
    """d/dz (1 - p)^gamma is unbounded at p = 1 for gamma < 1; the loss's
    true gradient there is 0 (the factor multiplies log p = 0). A saturated
    softmax must give that, not NaN. Oracle: central differences of the
    numpy formula (float64) on a slightly less confident prediction, and 0
    at saturation."""
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=gamma))
    saturated = torch.tensor([[100.0, 0.0, 0.0]], requires_grad=True)
    loss(saturated, torch.tensor([0])).backward()
    assert torch.isfinite(saturated.grad).all()
    assert torch.allclose(saturated.grad, torch.zeros(1, 3), atol=1e-6)
    z = np.array([[6.0, 0.0, -1.0]])
    num = np.zeros_like(z)
    for j in range(3):
        d = np.zeros_like(z)
        d[0, j] = 1e-6
        num[0, j] = (numpy_focal(z + d, np.array([0]), gamma)[0]
                     - numpy_focal(z - d, np.array([0]), gamma)[0]) / 2e-6
    x = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss(x, torch.tensor([0])).backward()
    np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-4, atol=1e-9)

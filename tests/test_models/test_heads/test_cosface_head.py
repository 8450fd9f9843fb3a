"""CosFaceHead (LMCL) against the paper's formula on hand-computed
examples: x = (3, 4) (norm 5) and unit class directions
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
K, C = 5, 6

pytestmark = pytest.mark.usefixtures('one_thread')


def _log1pexp(z):
    return math.log1p(math.exp(z))


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


def test_cosface_set_margins_validated_in_place():
    head = MODELS.build(dict(type='CosFaceHead', num_classes=K, in_channels=C))
    ptr = head.margins.data_ptr()
    head.set_margins(0.5)
    assert head.margins.data_ptr() == ptr
    torch.testing.assert_close(head.margins, torch.full((K, ), 0.5))
    with pytest.raises(ValueError, match=r'CosFaceHead.*\[0, 2\).*2.5'):
        head.set_margins(2.5)
    with pytest.raises(ValueError, match='has 2 values but num_classes=5'):
        head.set_margins([0.1, 0.2])


def test_margins_was_never_a_cosface_argument():
    """CosFace always took ``margin``: ``margins`` stays an error (no new
    alias), and the margin is checked under its argument name."""
    with pytest.raises(TypeError, match="'margins'"):
        MODELS.build(dict(type='CosFaceHead', num_classes=K, in_channels=C,
                          margins=0.1))
    with pytest.raises(ValueError,
                       match=r'CosFaceHead.__init__: `margin` must lie in '
                       r'\[0, 2\)'):
        MODELS.build(dict(type='CosFaceHead', num_classes=K, in_channels=C,
                          margin=2.0))

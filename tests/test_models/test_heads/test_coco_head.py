"""COCOHead against the paper's formula on a hand-computed example:
x = (3, 4) (norm 5) and unit class directions
w_0 = (1, 0), w_1 = (0, 1), so cos(theta_0) = 0.6 and cos(theta_1) = 0.8.
"""
import math

import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

X = torch.tensor([[3.0, 4.0]])

pytestmark = pytest.mark.usefixtures('one_thread')


def _log1pexp(z):
    return math.log1p(math.exp(z))


def test_coco_hand_computed():
    head = MODELS.build(
        dict(type='COCOHead', num_classes=2, in_channels=2, scale=2.0))
    with torch.no_grad():
        head.centroids.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    # logits = 2 * (.6, .8); label 1: CE = log(1 + e^-.4)
    out = head.loss((X, ), samples([1]))['loss']
    assert out.item() == pytest.approx(_log1pexp(-0.4), rel=1e-5)
    torch.testing.assert_close(head((X, )), torch.tensor([[1.2, 1.6]]))

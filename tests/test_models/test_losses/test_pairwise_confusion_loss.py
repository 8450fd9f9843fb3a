"""PairwiseConfusionLoss on a hand-computed example, and inside MMPretrain's
LinearClsHead."""
import math

import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

pytestmark = pytest.mark.usefixtures('one_thread')


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

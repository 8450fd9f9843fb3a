"""CenterLossHead: softmax cross-entropy plus the centre loss."""
import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

pytestmark = pytest.mark.usefixtures('one_thread')


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

"""CenterLoss against the paper (Wen et al. 2016) on a hand-computed
example: the loss value and the centre update of eq. 4."""
import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')


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

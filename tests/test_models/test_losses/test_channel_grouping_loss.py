"""MA-CNN's channel-grouping loss on hand-computed maps."""
import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS


pytestmark = pytest.mark.usefixtures('one_thread')


def test_cng_loss_hand_computed_two_parts():
    """2x2 maps; cell centres x, y in {0.25, 0.75}.

    M1 = [[1, 0], [0, .5]] peaks at (x, y) = (.25, .25);
    M2 = [[.5, 1], [.2, 0]] peaks at (.75, .25).
    L_dis: M1: only cell (1,1): .5 * (.5^2 + .5^2) = .25 -> mean .0625;
           M2: (0,0): .5 * .5^2 = .125, (1,0): .2 * (.5^2 + .5^2) = .1
           -> mean .05625.  Total .11875.
    L_div (mrg .02): M1 * (M2 - .02): 1 * .48 + .5 * (-.02) = .47 -> .1175;
           M2 * (M1 - .02): .5 * .98 + 1 * (-.02) + .2 * (-.02) = .466
           -> .1165. Total .234, times lambda = 2 -> .468.
    """
    maps = torch.tensor([[[[1.0, 0.0], [0.0, 0.5]],
                          [[0.5, 1.0], [0.2, 0.0]]]])
    loss = MODELS.build(dict(type='ChannelGroupingLoss'))
    out = loss(maps)
    assert out['loss_dis'].item() == pytest.approx(0.11875, abs=1e-6)
    assert out['loss_div'].item() == pytest.approx(0.468, abs=1e-6)

    weighted = MODELS.build(
        dict(type='ChannelGroupingLoss', div_weight=1.0, margin=0.0,
             loss_weight=3.0))
    out = weighted(maps)
    # div without margin: (1 * .5) + (.5 * 1) = 1 summed cells -> mean .25
    assert out['loss_div'].item() == pytest.approx(3 * 0.25, abs=1e-6)
    assert out['loss_dis'].item() == pytest.approx(3 * 0.11875, abs=1e-6)


def test_cng_div_uses_max_over_other_parts():
    torch.manual_seed(0)
    maps = torch.rand(2, 4, 3, 5)
    loss = MODELS.build(
        dict(type='ChannelGroupingLoss', div_weight=1.0, margin=0.1))
    expected = torch.zeros(2)
    for n in range(2):
        for i in range(4):
            others = torch.stack([maps[n, k] for k in range(4) if k != i])
            expected[n] += (maps[n, i] *
                            (others.max(0).values - 0.1)).mean()
    assert loss(maps)['loss_div'].item() == pytest.approx(
        expected.mean().item(), rel=1e-5)


def test_cng_dis_zero_for_point_maps_and_one_part_no_div():
    maps = torch.zeros(1, 1, 4, 4)
    maps[0, 0, 2, 1] = 1.0
    out = MODELS.build(dict(type='ChannelGroupingLoss'))(maps)
    assert out['loss_dis'].item() == 0.0 and out['loss_div'].item() == 0.0

"""MC-loss (the loss) against a transcription of the official code (PRIS-CV).

The oracle below transcribes ``supervisor`` / ``my_MaxPool2d`` of
github.com/PRIS-CV/Mutual-Channel-Loss (CUB-200-2011.py) step by step
(transpose + max_pool2d for CCMP, AvgPool2d for GAP) with a mask fixed in the
test instead of ``Mask()``'s Python RNG."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS


pytestmark = pytest.mark.usefixtures('one_thread')


def official_ccmp(x, cnum):
    # my_MaxPool2d(kernel_size=(1, cnum), stride=(1, cnum)): pools channels.
    x = x.transpose(3, 1)
    x = F.max_pool2d(x, (1, cnum), (1, cnum))
    return x.transpose(3, 1).contiguous()


def official_supervisor(x, targets, height, cnum, mask):
    branch = x
    branch = branch.reshape(branch.size(0), branch.size(1),
                            branch.size(2) * branch.size(3))
    branch = F.softmax(branch, 2)
    branch = branch.reshape(branch.size(0), branch.size(1), x.size(2),
                            x.size(2))
    branch = official_ccmp(branch, cnum)
    branch = branch.reshape(branch.size(0), branch.size(1),
                            branch.size(2) * branch.size(3))
    loss_2 = 1.0 - 1.0 * torch.mean(torch.sum(branch, 2)) / cnum

    branch_1 = x * mask
    branch_1 = official_ccmp(branch_1, cnum)
    branch_1 = nn.AvgPool2d(kernel_size=(height, height))(branch_1)
    branch_1 = branch_1.view(branch_1.size(0), -1)
    loss_1 = nn.CrossEntropyLoss()(branch_1, targets)
    return [loss_1, loss_2]


def fixed_mask(num_classes, xi, num_masked, seed):
    """(K*xi,) 0/1 mask, ``num_masked`` zeros per class (test's own RNG)."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(num_classes):
        row = torch.ones(xi)
        row[torch.randperm(xi, generator=gen)[:num_masked]] = 0
        rows.append(row)
    return torch.cat(rows)


@pytest.mark.parametrize('num_classes,xi,hw', [(5, 3, 4), (7, 2, 3),
                                              (4, 4, 5)])
def test_loss_equals_official_transcription(num_classes, xi, hw):
    torch.manual_seed(0)
    n = 6
    x = torch.randn(n, num_classes * xi, hw, hw) * 3
    target = torch.randint(0, num_classes, (n, ))
    mask = fixed_mask(num_classes, xi, xi // 2, seed=1)
    alpha, beta = 1.5, 20.0
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=num_classes,
             channels_per_class=xi, weight_dis=alpha, weight_div=beta))
    ours = loss(x, target, mask=mask.view(1, num_classes, xi))
    ref_dis, ref_div = official_supervisor(x, target, hw, xi,
                                           mask.view(1, -1, 1, 1))
    torch.testing.assert_close(ours['loss_dis'], alpha * ref_dis)
    torch.testing.assert_close(ours['loss_div'], beta * ref_div)


def test_gradients_equal_official_transcription():
    torch.manual_seed(1)
    k, xi, hw = 4, 3, 5
    x = torch.randn(3, k * xi, hw, hw, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    target = torch.tensor([0, 3, 1])
    mask = fixed_mask(k, xi, 1, seed=2)
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=k, channels_per_class=xi))
    ours = loss(x, target, mask=mask.view(1, k, xi))
    (ours['loss_dis'] + ours['loss_div']).backward()
    d, v = official_supervisor(x_ref, target, hw, xi, mask.view(1, -1, 1, 1))
    (1.5 * d + 20.0 * v).backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_random_mask_shape_count_and_seed():
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=10, channels_per_class=5,
             num_masked=2))
    torch.manual_seed(123)
    m1 = loss.random_mask(4, torch.device('cpu'))
    torch.manual_seed(123)
    m2 = loss.random_mask(4, torch.device('cpu'))
    m3 = loss.random_mask(4, torch.device('cpu'))
    assert m1.shape == (1, 10, 5)  # one mask shared by the batch (official)
    assert torch.equal(m1, m2)  # reproducible under the global seed
    assert not torch.equal(m2, m3)  # but redrawn every call
    assert torch.all(m1.sum(-1) == 3)  # exactly xi - num_masked kept
    assert set(m1.unique().tolist()) == {0.0, 1.0}

    per_sample = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=10, channels_per_class=5,
             mask_per_sample=True))
    assert per_sample.random_mask(4, torch.device('cpu')).shape == (4, 10, 5)


def test_training_draws_mask_and_eval_uses_none():
    torch.manual_seed(0)
    k, xi, hw = 3, 3, 4
    x = torch.rand(5, k * xi, hw, hw)
    target = torch.tensor([0, 1, 2, 1, 0])
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=k, channels_per_class=xi))
    loss.eval()
    out_eval = loss(x, target)
    ref_dis, _ = official_supervisor(x, target, hw, xi, torch.ones(1))
    torch.testing.assert_close(out_eval['loss_dis'], 1.5 * ref_dis)

    loss.train()
    torch.manual_seed(7)
    out_train = loss(x, target)
    torch.manual_seed(7)
    mask = loss.random_mask(5, x.device)
    ref_dis, _ = official_supervisor(x, target, hw, xi,
                                     mask.reshape(1, -1, 1, 1))
    torch.testing.assert_close(out_train['loss_dis'], 1.5 * ref_dis)
    assert not torch.allclose(out_train['loss_dis'], out_eval['loss_dis'])


def test_div_term_bounds():
    """L_div per class lies in [1, xi]: xi when the channels of a class peak
    at different places (one-hot maps), 1 when they are identical."""
    k, xi, hw = 2, 3, 3
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=k, channels_per_class=xi,
             weight_div=1.0))
    target = torch.tensor([0])
    spread = torch.full((1, k * xi, hw, hw), -1e4)
    for c in range(k * xi):
        spread[0, c].view(-1)[c % (hw * hw)] = 1e4
    assert loss(spread, target)['loss_div'].item() == pytest.approx(0.0,
                                                                   abs=1e-6)
    same = torch.randn(1, k, 1, hw, hw).expand(1, k, xi, hw, hw)
    same = same.reshape(1, k * xi, hw, hw)
    assert loss(same, target)['loss_div'].item() == pytest.approx(
        1 - 1 / xi, abs=1e-6)


def official_resnet50_supervisor(x, targets, height, cnum, num_classes,
                                 groups, mask):
    """Transcription of ``supervisor`` of the official ResNet-50 script
    (MC_ResNet50.py, commit 9e495cc, lines 131-189): ``num_classes`` classes
    own ``cnum[0]`` channels, the rest ``cnum[1]``; ``groups`` are the
    cumulative channel boundaries (line 107)."""
    features = x
    features = [features[:, [range(groups[i - 1], groups[i])]]
                for i in range(1, len(groups))]
    f1 = torch.cat(features[:num_classes], 2)
    f2 = torch.cat(features[num_classes:], 2)
    f1 = f1.reshape(f1.size(0), f1.size(2), f1.size(3), f1.size(4))
    f2 = f2.reshape(f2.size(0), f2.size(2), f2.size(3), f2.size(4))
    losses_2 = []
    for f, c in ((f1, cnum[0]), (f2, cnum[1])):
        f = f.reshape(f.size(0), f.size(1), f.size(2) * f.size(3))
        f = F.softmax(f, 2)
        f = f.reshape(f.size(0), f.size(1), x.size(2), x.size(2))
        f = official_ccmp(f, c)
        f = f.reshape(f.size(0), f.size(1), f.size(2) * f.size(3))
        losses_2.append(1.0 - torch.mean(torch.sum(f, 2)) / (c * 1.0))
    loss_2 = losses_2[0] + losses_2[1]

    features = x * mask
    features = [features[:, [range(groups[i - 1], groups[i])]]
                for i in range(1, len(groups))]
    f1 = torch.cat(features[:num_classes], 2)
    f2 = torch.cat(features[num_classes:], 2)
    f1 = f1.reshape(f1.size(0), f1.size(2), f1.size(3), f1.size(4))
    f2 = f2.reshape(f2.size(0), f2.size(2), f2.size(3), f2.size(4))
    b1 = nn.AvgPool2d(kernel_size=(height, height))(official_ccmp(
        f1, cnum[0]))
    b2 = nn.AvgPool2d(kernel_size=(height, height))(official_ccmp(
        f2, cnum[1]))
    branch_1 = torch.cat([b1.view(b1.size(0), -1),
                          b2.view(b2.size(0), -1)], 1)
    loss_1 = nn.CrossEntropyLoss()(branch_1, targets)
    return loss_1, loss_2


def test_split_channels_is_the_official_resnet50_layout():
    from projects.fgvc_aam.models.losses.mutual_channel_loss import \
        split_channels
    # MC_ResNet50.py line 106, literally.
    assert split_channels(2048, 200) == [10] * 152 + [11] * 48
    assert split_channels(12, 4) == [3] * 4
    with pytest.raises(ValueError, match='5 classes'):
        split_channels(4, 5)


def test_unequal_groups_equal_official_resnet50_transcription():
    """Two group sizes (3 classes x 4 channels + 2 classes x 5), the official
    mask of 'drop 2 per class' fixed, weights 1 and 10 so that
    loss_dis + loss_div is the script's ``loss_1 + 10 * loss_2``."""
    torch.manual_seed(3)
    sizes = [4] * 3 + [5] * 2
    hw, n = 4, 5
    x = torch.randn(n, sum(sizes), hw, hw, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    target = torch.tensor([0, 4, 2, 3, 1])
    gen = torch.Generator().manual_seed(5)
    mask = torch.cat([
        torch.ones(s).index_fill(0, torch.randperm(s, generator=gen)[:2], 0)
        for s in sizes
    ])
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=5,
             channels_per_class=sizes, num_masked=2, weight_dis=1.0,
             weight_div=10.0))
    ours = loss(x, target, mask=mask.view(1, -1))
    groups = [0] + [sum(sizes[:i + 1]) for i in range(len(sizes))]
    ref_1, ref_2 = official_resnet50_supervisor(
        x_ref, target, hw, [4, 5], 3, groups, mask.view(1, -1, 1, 1))
    torch.testing.assert_close(ours['loss_dis'], ref_1)
    torch.testing.assert_close(ours['loss_div'], 10 * ref_2)
    (ours['loss_dis'] + ours['loss_div']).backward()
    (ref_1 + 10 * ref_2).backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_unequal_groups_random_mask_drops_num_masked_per_class():
    loss = MODELS.build(
        dict(type='MutualChannelLoss', num_classes=5,
             channels_per_class=[10] * 3 + [11] * 2, num_masked=4))
    mask = loss.random_mask(3, torch.device('cpu'))
    assert mask.shape == (1, 52)
    kept = [mask[0, :30].view(3, 10).sum(-1), mask[0, 30:].view(2, 11).sum(-1)]
    assert kept[0].tolist() == [6.0] * 3  # official: [1] * 6 + [0] * 4
    assert kept[1].tolist() == [7.0] * 2  # official: [1] * 7 + [0] * 4
    with pytest.raises(ValueError, match='lists 2 counts'):
        MODELS.build(dict(type='MutualChannelLoss', num_classes=3,
                          channels_per_class=[3, 3]))
    with pytest.raises(ValueError, match='expects 52 channels'):
        loss(torch.randn(1, 50, 2, 2), torch.tensor([0]))

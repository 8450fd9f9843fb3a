"""MC-loss against a transcription of the official code (PRIS-CV).

The oracle below transcribes ``supervisor`` / ``my_MaxPool2d`` of
github.com/PRIS-CV/Mutual-Channel-Loss (CUB-200-2011.py) step by step
(transpose + max_pool2d for CCMP, AvgPool2d for GAP) with a mask fixed in the
test instead of ``Mask()``'s Python RNG.
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: one intra-op thread avoids oversubscription stalls."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_head_reduction_losses_and_eval():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='MCLossHead', num_classes=4, in_channels=10,
             channels_per_class=2))
    head.init_weights()
    assert head.reduce.conv.out_channels == 8 and head.fc.in_features == 8
    feat = torch.randn(3, 10, 5, 5, requires_grad=True)
    losses = head.loss((feat, ), _samples([0, 3, 2]))
    assert set(losses) == {'loss_ce', 'loss_dis', 'loss_div'}
    sum(losses.values()).backward()
    assert torch.isfinite(feat.grad).all() and feat.grad.abs().sum() > 0

    # The CE term is the plain GAP + linear cross-entropy of the same maps.
    head.eval()
    with torch.no_grad():
        maps = head.reduce(feat)
        logits = head.fc(maps.mean(dim=(2, 3)))
        torch.testing.assert_close(head((feat, )), logits)
        ce = F.cross_entropy(logits, torch.tensor([0, 3, 2]))
        torch.testing.assert_close(
            head.loss((feat, ), _samples([0, 3, 2]))['loss_ce'], ce)
        # Eval: no random mask -> deterministic MC terms.
        a = head.loss((feat, ), _samples([0, 3, 2]))
        b = head.loss((feat, ), _samples([0, 3, 2]))
        torch.testing.assert_close(a['loss_dis'], b['loss_dis'])
    preds = head.predict((feat, ))
    assert preds[0].pred_score.shape == (4, )


def test_head_without_reduction_when_channels_match():
    head = MODELS.build(
        dict(type='MCLossHead', num_classes=3, in_channels=9))
    assert isinstance(head.reduce, nn.Identity)


@pytest.mark.parametrize('cfg,match', [
    (dict(channels_per_class=0), 'channels_per_class'),
    (dict(num_classes=0), 'num_classes'),
    (dict(in_channels=2.5), 'in_channels'),
    (dict(mc_loss=dict(type='MutualChannelLoss', num_masked=3)),
     'num_masked'),
    (dict(mc_loss=dict(type='MutualChannelLoss', weight_div=-1.0)),
     'weight_div'),
    (dict(mc_loss=dict(type='MutualChannelLoss', num_classes=7)),
     'num_classes'),
])
def test_bad_arguments_fail_at_build(cfg, match):
    base = dict(type='MCLossHead', num_classes=3, in_channels=9)
    base.update(cfg)
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(base)


def test_head_rejects_pooled_features():
    head = MODELS.build(dict(type='MCLossHead', num_classes=3, in_channels=9))
    with pytest.raises(ValueError, match='neck=None'):
        head((torch.randn(2, 9), ))

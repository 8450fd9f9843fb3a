"""MC-loss's head (MCLossHead): reduction, losses, evaluation and the
official layout."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples


pytestmark = pytest.mark.usefixtures('one_thread')


def test_head_reduction_losses_and_eval():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='MCLossHead', num_classes=4, in_channels=10,
             channels_per_class=2))
    head.init_weights()
    assert head.reduce.conv.out_channels == 8 and head.fc.in_features == 8
    feat = torch.randn(3, 10, 5, 5, requires_grad=True)
    losses = head.loss((feat, ), samples([0, 3, 2]))
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
            head.loss((feat, ), samples([0, 3, 2]))['loss_ce'], ce)
        # Eval: no random mask -> deterministic MC terms.
        a = head.loss((feat, ), samples([0, 3, 2]))
        b = head.loss((feat, ), samples([0, 3, 2]))
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


def test_head_official_layout_and_classifier():
    """channels_per_class=None shares the backbone channels (no 1x1 layer);
    logits = FC(ELU(BN(FC(BN(global max pool))))), computed here from the
    head's parameters with torch.nn.functional."""
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='MCLossHead', num_classes=4, in_channels=9,
             channels_per_class=None, pool='max', hidden_channels=6,
             mc_loss=dict(type='MutualChannelLoss', num_masked=1)))
    assert isinstance(head.reduce, nn.Identity)
    assert head.mc_loss.sizes == [2, 2, 2, 3]
    feat = torch.randn(5, 9, 3, 3)
    losses = head.loss((feat, ), samples([0, 1, 2, 3, 3]))
    assert set(losses) == {'loss_ce', 'loss_dis', 'loss_div'}
    head.eval()
    bn1, fc1, bn2 = head.pre_fc[0], head.pre_fc[1], head.pre_fc[2]
    with torch.no_grad():
        z = feat.amax(dim=(2, 3))
        z = F.batch_norm(z, bn1.running_mean, bn1.running_var, bn1.weight,
                         bn1.bias, eps=bn1.eps)
        z = F.linear(z, fc1.weight, fc1.bias)
        z = F.batch_norm(z, bn2.running_mean, bn2.running_var, bn2.weight,
                         bn2.bias, eps=bn2.eps)
        z = F.linear(F.elu(z), head.fc.weight, head.fc.bias)
        torch.testing.assert_close(head((feat, )), z)
    with pytest.raises(ValueError, match='pool'):
        MODELS.build(dict(type='MCLossHead', num_classes=3, in_channels=9,
                          pool='mean'))


def test_head_pool_size_flattens_the_pooled_maps():
    """pool_size=2 on 4 x 4 maps = the official VGG-16 MaxPool2d(2, 2)
    before flattening."""
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='MCLossHead', num_classes=2, in_channels=6, pool='max',
             pool_size=2))
    feat = torch.randn(3, 6, 4, 4)
    assert head.fc.in_features == 6 * 2 * 2
    with torch.no_grad():
        ref = F.linear(F.max_pool2d(feat, 2, 2).flatten(1), head.fc.weight,
                       head.fc.bias)
        torch.testing.assert_close(head((feat, )), ref)

"""MA-CNN's head (parts, logits, losses) and its classifier."""
import pytest
import torch
import torch.nn.functional as F

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples


pytestmark = pytest.mark.usefixtures('one_thread')


def test_head_parts_logits_and_losses():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(type='MACNNHead', num_classes=5, in_channels=6, num_parts=3,
             hidden_channels=4))
    head.init_weights()
    feat = torch.rand(2, 6, 4, 4)
    _, maps, parts = head._parts((feat, ))
    assert maps.shape == (2, 3, 4, 4)
    assert maps.min() >= 0 and torch.allclose(
        maps.flatten(2).max(-1).values, torch.ones(2, 3))
    # Part features: attention-weighted averages (loop reference).
    for n in range(2):
        for p in range(3):
            w = maps[n, p] / maps[n, p].sum()
            ref = (feat[n] * w).sum(dim=(1, 2))
            torch.testing.assert_close(parts[n, p], ref)
    # Attention map: min-max normalised d-weighted channel mean.
    d = head.channel_weights(feat)
    agg = (d[0, 1].view(6, 1, 1) * feat[0]).sum(0) / d[0, 1].sum()
    ref = (agg - agg.min()) / (agg.max() - agg.min())
    torch.testing.assert_close(maps[0, 1], ref)

    logits = head((feat, ))
    cat = torch.cat([parts.flatten(1), feat.mean(dim=(2, 3))], dim=1)
    torch.testing.assert_close(logits, head.fc(cat))

    labels = torch.tensor([4, 1])
    losses = head.loss((feat, ), samples(labels))
    assert set(losses) == {'loss_cls', 'loss_part', 'loss_dis', 'loss_div'}
    torch.testing.assert_close(losses['loss_cls'],
                               F.cross_entropy(logits, labels))
    part_scores = head.part_logits(parts)
    ref_part = sum(
        F.cross_entropy(part_scores[:, p], labels) for p in range(3)) / 3
    torch.testing.assert_close(losses['loss_part'], ref_part)


def test_detached_cng_trains_only_the_grouping():
    torch.manual_seed(0)
    feat = torch.rand(2, 6, 4, 4, requires_grad=True)
    head = MODELS.build(
        dict(type='MACNNHead', num_classes=3, in_channels=6, num_parts=2))
    losses = head.loss((feat, ), samples([0, 2]))
    cng = losses['loss_dis'] + losses['loss_div']
    g_feat, g_group = torch.autograd.grad(
        cng, [feat, head.group_fc2.weight], allow_unused=True)
    assert g_feat is None or g_feat.abs().sum() == 0
    assert g_group.abs().sum() > 0
    g_feat = torch.autograd.grad(losses['loss_cls'], feat)[0]
    assert g_feat.abs().sum() > 0

    attached = MODELS.build(
        dict(type='MACNNHead', num_classes=3, in_channels=6, num_parts=2,
             detach_cng=False))
    losses = attached.loss((feat, ), samples([0, 2]))
    g = torch.autograd.grad(losses['loss_div'], feat)[0]
    assert g.abs().sum() > 0


def test_degenerate_maps_are_finite():
    head = MODELS.build(
        dict(type='MACNNHead', num_classes=3, in_channels=4, num_parts=2))
    for feat in (torch.zeros(1, 4, 3, 3), torch.rand(1, 4, 1, 1)):
        feat.requires_grad_(True)
        losses = head.loss((feat, ), samples([1]))
        total = sum(losses.values())
        assert torch.isfinite(total)
        total.backward()
        assert torch.isfinite(feat.grad).all()


@pytest.mark.parametrize('cfg,match', [
    (dict(num_parts=0), 'num_parts'),
    (dict(hidden_channels=0), 'hidden_channels'),
    (dict(part_loss_weight=-1), 'part_loss_weight'),
    (dict(cng_loss=dict(type='ChannelGroupingLoss', margin=-0.1)), 'margin'),
    (dict(cng_loss=dict(type='ChannelGroupingLoss', div_weight='2')),
     'div_weight'),
])
def test_bad_arguments(cfg, match):
    base = dict(type='MACNNHead', num_classes=3, in_channels=4)
    base.update(cfg)
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(base)


def test_ma_cnn_classifier_train_step():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet', depth=18, base_channels=8, stem_channels=8,
                out_indices=(3, )),
            neck=None,
            head=dict(type='MACNNHead', num_classes=3, in_channels=64,
                      num_parts=2)))
    model.init_weights()
    inputs = torch.randn(4, 3, 64, 64)
    losses = model(inputs, samples([0, 1, 2, 0]), mode='loss')
    sum(losses.values()).backward()
    preds = model(inputs, mode='predict')
    assert len(preds) == 4 and preds[0].pred_score.shape == (3, )

"""The Table 8 heads and losses together: argument checks, finite training
and prediction, and learning separable features. Each head's and loss's own
tests are in its module's test file (``test_<head>.py``,
``tests/test_models/test_losses/``)."""
import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from tests.helpers import samples

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.mark.parametrize('cfg,match', [
    (dict(type='SphereFaceHead', margin=1.5), 'margin'),
    (dict(type='SphereFaceHead', margin=0), 'margin'),
    (dict(type='SphereFaceHead', lambda_min=-1.0), 'lambda_min'),
    (dict(type='CosFaceHead', margin=-0.1), 'margin'),
    (dict(type='CosFaceHead', margin=2.5), 'margin'),
    (dict(type='CosFaceHead', scale=0.0), 'scale'),
    (dict(type='COCOHead', scale=-1.0), 'scale'),
    (dict(type='LGMHead', margin=-0.1), 'margin'),
    (dict(type='LGMHead', lambda_lkd=float('nan')), 'lambda_lkd'),
    (dict(type='CenterLossHead', num_classes=0), 'num_classes'),
    (dict(type='CenterLossHead',
          center_loss=dict(type='CenterLoss', alpha=1.5)), 'alpha'),
    (dict(type='CenterLossHead',
          center_loss=dict(type='CenterLoss', feat_dim=3)), 'feat_dim'),
])
def test_bad_head_arguments(cfg, match):
    full = dict(num_classes=3, in_channels=4)
    full.update(cfg)
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(full)


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match='confusion_weight'):
        MODELS.build(dict(type='PairwiseConfusionLoss', confusion_weight=-1))
    with pytest.raises(TypeError, match='feat_dim'):
        MODELS.build(dict(type='CenterLoss', num_classes=2, feat_dim='8'))


@pytest.mark.parametrize('head', [
    dict(type='CenterLossHead'), dict(type='SphereFaceHead'),
    dict(type='CosFaceHead'), dict(type='COCOHead'), dict(type='LGMHead')
])
def test_heads_train_and_predict_finite(head):
    torch.manual_seed(0)
    head = MODELS.build(dict(num_classes=3, in_channels=4, **head))
    head.init_weights()
    x = torch.randn(4, 4, requires_grad=True)
    losses = head.loss((x, ), samples([0, 1, 2, 1]))
    total = sum(losses.values())
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(x.grad).all()
    preds = head.predict((x.detach(), ))
    assert preds[0].pred_score.shape == (3, )


@pytest.mark.parametrize('head', [
    dict(type='CenterLossHead'),
    dict(type='SphereFaceHead', margin=4),
    dict(type='CosFaceHead', scale=16.0, margin=0.35),
    dict(type='COCOHead', scale=16.0),
    dict(type='LGMHead', margin=0.1),
    dict(type='LinearClsHead', loss=dict(type='PairwiseConfusionLoss')),
])
def test_heads_learn_separable_features(head):
    """A learnable linear embedding + each head separates 4 Gaussian blobs."""
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 3
    y = torch.arange(64) % 4
    x = centres[y] + 0.3 * torch.randn(64, 8)
    embed = torch.nn.Linear(8, 6)
    head = MODELS.build(dict(num_classes=4, in_channels=6, **head))
    head.init_weights()
    params = list(embed.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    for _ in range(150):
        losses = head.loss((embed(x), ), samples(y))
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
    head.eval()
    with torch.no_grad():
        pred = head((embed(x), )).argmax(1)
    assert (pred == y).float().mean() > 0.95

"""Fuzz / property tests of ``TwoBranchClassifier`` end to end (issue 7):
a NaN image is classified on the whole image (its crop is the image
itself); constant, all-zero and tiny images train with finite losses and
gradients and give valid boxes."""
import pytest
import torch
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401  (registers everything)
from projects.fgvc_aam.models.classifiers.two_branch_classifier import \
    crop_and_resize
from tests.helpers import assert_valid_boxes, samples

pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures('one_thread')]


def _model():
    """A small two-branch AAM model (ResNet-18 of width 8), initialised."""
    model = MODELS.build(dict(
        type='TwoBranchClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='AngularMarginHead', num_classes=3, in_channels=64),
        localizer=dict(type='ChannelAggregationLocalizer')))
    model.init_weights()
    return model


def test_two_branch_nan_image_is_classified_whole():
    """A NaN image: NaN features -> whole-image box -> the object branch
    sees the raw image itself (crop of the whole image is the identity)."""
    model = _model()
    model.eval()
    x = torch.randn(2, 3, 64, 48, generator=torch.Generator().manual_seed(8))
    x[1] = float('nan')
    with torch.no_grad():
        boxes = model.localize(model.backbone(x), x.shape[-2:])
        preds = model.predict(x)
    assert torch.equal(boxes[1], torch.tensor([0., 0., 48., 64.]))
    assert torch.equal(preds[1].pred_bboxes, boxes[1:2])
    assert_valid_boxes(boxes, 2, (64, 48))
    crop = crop_and_resize(x[:1], torch.tensor([[0., 0., 48., 64.]]),
                           (64, 48))
    torch.testing.assert_close(crop, x[:1], rtol=0, atol=1e-6)


@pytest.mark.parametrize('size,batch', [(32, 2), (64, 1)])
def test_two_branch_degenerate_images_train_finite(size, batch):
    """Constant and all-zero images, a 1x1 last map (32 px), batch size 1:
    finite losses and gradients, valid boxes."""
    model = _model()
    model.train()
    for fill in (0.0, 1.0, 1e4):
        model.zero_grad()
        x = torch.full((batch, 3, size, size), fill)
        losses = model.loss(x, samples(torch.arange(batch) % 3))
        assert set(losses) == {'loss_raw', 'loss_object'}
        total = losses['loss_raw'] + losses['loss_object']
        assert torch.isfinite(total), (fill, losses)
        total.backward()
        for pname, p in model.named_parameters():
            if p.grad is not None:
                assert torch.isfinite(p.grad).all(), (fill, pname)
        with torch.no_grad():
            boxes = model.localize(model.backbone(x), x.shape[-2:])
        assert_valid_boxes(boxes, batch, (size, size))

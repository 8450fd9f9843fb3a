"""Fuzz / property tests of the localizer and the margin heads (issue 7).

Seeded random sweeps (no extra dependency) over random, extreme and
degenerate inputs: magnitudes from 1e-30 to 1e30, all-zero and constant
maps, NaN / inf, 1x1 maps, batch size 1, float16 / bfloat16 / float64.

Properties checked:

- ``ChannelAggregationLocalizer``: boxes are finite float32 with
  ``0 <= x1 < x2 <= W`` and ``0 <= y1 < y2 <= H``; they equal an independent
  scipy oracle (``ndimage.label``, largest component, first-in-raster-order
  tie) at every magnitude; they are invariant to scaling the features by a
  power of two (exact in floating point); an image with a NaN / inf feature,
  or whose channel sum overflows, gets the whole image and leaves the other
  images of the batch unchanged.
- Margin heads (``AngularMarginHead`` in its three overflow modes,
  ``CosFaceHead``, ``SphereFaceHead``, ``LGMHead``, and ``COCOHead``): for
  finite features the training loss, every gradient and the evaluation
  logits are finite; normalised heads are scale invariant where
  ``F.normalize`` is exact; SphereFace logits are 1-homogeneous; half
  precision features under autocast give the float32 result.
- ``TwoBranchClassifier`` end to end: a NaN image is classified on the
  whole image (its crop is the image itself).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from scipy import ndimage

import projects.fgvc_aam  # noqa: F401  (registers everything)
from projects.fgvc_aam.models.classifiers.two_branch_classifier import \
    crop_and_resize
from projects.fgvc_aam.models.localizers import ChannelAggregationLocalizer

torch.set_num_threads(1)

MAGNITUDES = (1e-30, 1e-10, 1e-3, 1.0, 1e3, 1e10, 1e30)


# --------------------------------------------------------------- localizer
def oracle_boxes(agg: torch.Tensor, img_shape, connectivity: int):
    """Boxes from the channel sum ``agg`` (N, H, W), written from the
    definition with scipy: threshold at the mean (eq. 48), largest
    8/4-connected component (scipy numbers components in raster order of
    their first cell, so the first largest one wins ties), cell box scaled
    to pixels; the whole image when ``agg`` is not finite or empty."""
    img_h, img_w = img_shape
    structure = ndimage.generate_binary_structure(
        2, 2 if connectivity == 8 else 1)
    out = []
    for a in agg:
        a = a.double().numpy()
        height, width = a.shape
        whole = [0.0, 0.0, float(img_w), float(img_h)]
        if not np.isfinite(a).all():
            out.append(whole)
            continue
        # the threshold: the mean in the localizer's dtype (eq. 48)
        mean = float(torch.from_numpy(a).to(agg.dtype).mean())
        mask = a > mean
        labels, num = ndimage.label(mask, structure=structure)
        if num == 0:
            out.append(whole)
            continue
        sizes = np.bincount(labels.ravel())[1:]
        ys, xs = np.nonzero(labels == int(np.argmax(sizes)) + 1)
        out.append([xs.min() * img_w / width, ys.min() * img_h / height,
                    (xs.max() + 1) * img_w / width,
                    (ys.max() + 1) * img_h / height])
    return torch.tensor(out, dtype=torch.float64).reshape(-1, 4)


def assert_valid_boxes(boxes: torch.Tensor, num: int, img_shape):
    img_h, img_w = img_shape
    assert boxes.shape == (num, 4) and boxes.dtype == torch.float32
    assert torch.isfinite(boxes).all()
    x1, y1, x2, y2 = boxes.unbind(1)
    assert (x1 >= 0).all() and (y1 >= 0).all()
    assert (x1 < x2).all() and (y1 < y2).all()
    assert (x2 <= img_w).all() and (y2 <= img_h).all()


def random_features(gen: np.random.Generator, num, channels, height, width,
                    magnitude):
    """Features of several kinds: signed normal, post-ReLU (sparse,
    non-negative), a few bright blobs on zeros, and constant maps."""
    kind = gen.integers(4)
    if kind == 0:
        x = gen.standard_normal((num, channels, height, width))
    elif kind == 1:
        x = np.maximum(gen.standard_normal((num, channels, height, width)),
                       0)
    elif kind == 2:
        x = np.zeros((num, channels, height, width))
        for _ in range(int(gen.integers(1, 4))):
            i, c = gen.integers(num), gen.integers(channels)
            y, xx = gen.integers(height), gen.integers(width)
            x[i, c, y:y + 2, xx:xx + 3] = gen.uniform(0.5, 2)
    else:
        x = np.full((num, channels, height, width), gen.uniform(-1, 1))
    return torch.from_numpy(x * magnitude)


@pytest.mark.parametrize('connectivity', [8, 4])
def test_localizer_random_sweep_matches_oracle(connectivity):
    loc = ChannelAggregationLocalizer(connectivity=connectivity)
    gen = np.random.default_rng(connectivity)
    dtypes = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
    for trial in range(160):
        num = int(gen.integers(1, 5))
        channels = int(gen.integers(1, 9))
        height, width = (int(v) for v in gen.integers(1, 13, size=2))
        if trial % 10 == 0:
            height = width = 1
        img_shape = tuple(int(v) for v in gen.integers(1, 300, size=2))
        magnitude = MAGNITUDES[trial % len(MAGNITUDES)]
        dtype = dtypes[trial % len(dtypes)]
        feat = random_features(gen, num, channels, height, width,
                               magnitude).to(dtype)
        boxes = loc.localize(feat, img_shape)
        assert_valid_boxes(boxes, num, img_shape)
        expected = oracle_boxes(
            ChannelAggregationLocalizer.aggregate(feat), img_shape,
            connectivity)
        torch.testing.assert_close(
            boxes.double(), expected, rtol=1e-6, atol=1e-4,
            msg=lambda m: f'trial {trial} {dtype} {magnitude}: {m}')


def test_localizer_power_of_two_scaling_changes_nothing():
    """Scaling by 2^k is exact, so the mask and box must not move."""
    loc = ChannelAggregationLocalizer()
    gen = np.random.default_rng(1)
    for trial in range(40):
        feat = random_features(gen, 3, 6, 9, 11, 1.0).float()
        boxes = loc.localize(feat, (90, 110))
        for k in (-100, -60, -20, 20, 60, 100):  # 2^100 ~ 1.3e30
            scaled = loc.localize(feat * 2.0**k, (90, 110))
            assert torch.equal(scaled, boxes), (trial, k)


def test_localizer_non_finite_images_get_whole_image_alone():
    loc = ChannelAggregationLocalizer()
    gen = np.random.default_rng(2)
    img_shape = (64, 80)
    whole = torch.tensor([0., 0., 80., 64.])
    for trial in range(30):
        feat = random_features(gen, 5, 4, 7, 7, 1.0).float()
        feat[:, 0, 0, 0] += 1.0  # no constant map: every image is non-trivial
        bad = sorted(gen.choice(5, size=int(gen.integers(1, 4)),
                                replace=False).tolist())
        poisoned = feat.clone()
        for i, value in zip(bad, (float('nan'), float('inf'), -float('inf'))):
            c, y, x = (int(v) for v in gen.integers(0, (4, 7, 7)))
            poisoned[i, c, y, x] = value
        # a finite map whose channel sum overflows float32 (3e38 + 3e38)
        overflow = torch.zeros(1, 4, 7, 7)
        overflow[0, :2, 3, 3] = 3e38
        boxes = loc.localize(torch.cat([poisoned, overflow]), img_shape)
        assert_valid_boxes(boxes, 6, img_shape)
        alone = loc.localize(feat, img_shape)
        for i in range(5):
            assert torch.equal(boxes[i], whole if i in bad else alone[i])
        assert torch.equal(boxes[5], whole)


def test_localizer_with_previous_stage_mask_stays_valid():
    """AOLM intersection on random grids: still a valid box (or the whole
    image when the intersection is empty)."""
    loc = ChannelAggregationLocalizer()
    gen = np.random.default_rng(3)
    for trial in range(40):
        num = int(gen.integers(1, 4))
        h, w = (int(v) for v in gen.integers(1, 8, size=2))
        factor = int(gen.integers(1, 3))
        feat = random_features(gen, num, 4, h, w, 1.0).float()
        prev = random_features(gen, num, 3, h * factor, w * factor,
                               MAGNITUDES[trial % 7]).float()
        img_shape = (int(gen.integers(8, 200)), int(gen.integers(8, 200)))
        assert_valid_boxes(loc.localize(feat, img_shape, prev), num,
                           img_shape)


# ------------------------------------------------------------------- heads
C, D = 5, 12

HEADS = {
    'aam-literal': dict(type='AngularMarginHead', margins=0.5),
    'aam-monotonic': dict(type='AngularMarginHead', margins=0.5,
                          overflow='monotonic'),
    'aam-easy': dict(type='AngularMarginHead', margins=0.5, overflow='easy'),
    'aam-near-pi': dict(type='AngularMarginHead', margins=3.1),
    'cosface': dict(type='CosFaceHead'),
    'sphereface-m4': dict(type='SphereFaceHead'),
    'sphereface-pure': dict(type='SphereFaceHead', lambda_base=0.0,
                            lambda_min=0.0),
    'lgm': dict(type='LGMHead'),
    'coco': dict(type='COCOHead'),
}
#: heads whose logits only depend on the direction of the feature
NORMALISED = ('aam-literal', 'aam-monotonic', 'aam-easy', 'aam-near-pi',
              'cosface', 'coco')


def build_head(name):
    head = MODELS.build(dict(HEADS[name], num_classes=C, in_channels=D))
    head.init_weights()
    return head


def class_weight(head):
    """The (C, D) class weights / means / centres of a head."""
    if hasattr(head, 'norm_product'):
        return head.norm_product.weight
    for attr in ('weight', 'means', 'centroids'):
        if hasattr(head, attr):
            return getattr(head, attr)
    raise AttributeError(type(head).__name__)


def feature_cases(head, gen: np.random.Generator):
    """(description, features (N, D), labels (N,)) of many kinds."""
    w = F.normalize(class_weight(head).detach().float()[:C], dim=1)
    cases = []
    for n in (1, 2, 7):
        base = torch.from_numpy(gen.standard_normal((n, D))).float()
        labels = torch.from_numpy(gen.integers(0, C, n))
        for mag in (0.0, ) + MAGNITUDES:
            cases.append((f'random n={n} |x|~{mag}', base * mag, labels))
    labels = torch.tensor([0, 1, 2, 3])
    # exactly on / opposite to the target weight: cos = +-1 (acos hazards)
    cases.append(('on target', w[labels] * 3.0, labels))
    cases.append(('opposite target', -w[labels] * 3.0, labels))
    cases.append(('identical rows', torch.ones(4, D), labels))
    cases.append(('one-hot', torch.eye(D)[:4] * 1e4, labels))
    cases.append(('same label', torch.randn(4, D), torch.zeros(4).long()))
    return cases


def samples(labels):
    return [DataSample().set_gt_label(int(t)) for t in labels]


def max_magnitude(name):
    # L-GM's loss is a squared distance: its true value overflows float32
    # beyond |x| ~ 1e19, so only finite-valued magnitudes are required.
    return 1e15 if name == 'lgm' else math.inf


@pytest.mark.parametrize('name', sorted(HEADS))
def test_head_losses_logits_and_gradients_finite(name):
    head = build_head(name)
    gen = np.random.default_rng(4)
    for desc, feats, labels in feature_cases(head, gen):
        if feats.abs().max() > max_magnitude(name):
            continue
        head.zero_grad()
        x = feats.clone().requires_grad_()
        head.train()
        losses = head.loss((x, ), samples(labels))
        total = sum(v for k, v in losses.items() if 'loss' in k)
        assert all(torch.isfinite(v).all() for v in losses.values()), \
            (desc, losses)
        total.backward()
        assert torch.isfinite(x.grad).all(), desc
        for pname, p in head.named_parameters():
            if p.grad is not None:
                assert torch.isfinite(p.grad).all(), (desc, pname)
        head.eval()
        with torch.no_grad():
            logits = head((feats, ))
        assert logits.shape == (len(labels), C)
        assert torch.isfinite(logits).all(), desc


@pytest.mark.parametrize('name', NORMALISED)
def test_normalised_heads_are_scale_invariant(name):
    """Logits of ``2^k x`` equal those of ``x`` wherever ``F.normalize`` is
    exact: ``1e-12 < ||x||`` (its eps) and ``||x||^2`` finite
    (``||x|| < 1.8e19``). Beyond, the cosines collapse to 0 (finite, tested
    above; upstream ``NormProduct``)."""
    head = build_head(name).eval()
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = head((x, ))
        for k in (-30, -10, 10, 30, 60):
            torch.testing.assert_close(head((x * 2.0**k, )), ref,
                                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name', ['sphereface-m4', 'sphereface-pure'])
def test_sphereface_logits_are_one_homogeneous_up_to_1e30(name):
    """``||x|| psi(theta)``: scaling x by 2^k scales every logit by 2^k, also
    where ``||x||^2`` overflows float32 (it used to give inf * 0 = NaN)."""
    head = build_head(name)
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(6))
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    head.eval()
    with torch.no_grad():
        ref = head((x, ))
        ref_margin = head((x, ), labels, 5.0)
        for k in (-100, -30, 30, 70, 100):  # 2^100 ~ 1.3e30
            torch.testing.assert_close(head((x * 2.0**k, )), ref * 2.0**k,
                                       rtol=1e-5, atol=0)
            torch.testing.assert_close(head((x * 2.0**k, ), labels, 5.0),
                                       ref_margin * 2.0**k, rtol=1e-5,
                                       atol=0)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('name', sorted(HEADS))
def test_half_precision_features_under_autocast(name, dtype):
    """Mixed precision (``--amp``) hands half features to the head: the
    loss must be the float32 loss of the same (rounded) features."""
    head = build_head(name).train()
    x = torch.randn(6, D, generator=torch.Generator().manual_seed(7))
    x = x.to(dtype)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    state = {k: v.clone() for k, v in head.state_dict().items()}
    with torch.autocast('cpu', dtype=dtype):
        half = head.loss((x.clone().requires_grad_(), ), samples(labels))
    head.load_state_dict(state)  # SphereFace counts iterations
    full = head.loss((x.float(), ), samples(labels))
    assert half.keys() == full.keys()
    for key in full:
        assert torch.isfinite(half[key]).all()
        torch.testing.assert_close(half[key].float(), full[key], rtol=1e-5,
                                   atol=1e-5)


# ------------------------------------------------------------ two branches
def test_two_branch_nan_image_is_classified_whole():
    """A NaN image: NaN features -> whole-image box -> the object branch
    sees the raw image itself (crop of the whole image is the identity)."""
    model = MODELS.build(dict(
        type='TwoBranchClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='AngularMarginHead', num_classes=3, in_channels=64),
        localizer=dict(type='ChannelAggregationLocalizer')))
    model.init_weights()
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
    model = MODELS.build(dict(
        type='TwoBranchClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='AngularMarginHead', num_classes=3, in_channels=64),
        localizer=dict(type='ChannelAggregationLocalizer')))
    model.init_weights()
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

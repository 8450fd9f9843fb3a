"""Fuzz / property tests of the localizer (issue 7).

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
"""
import numpy as np
import pytest
import torch

import projects.fgvc_aam  # noqa: F401  (registers everything)
from projects.fgvc_aam.models.localizers import ChannelAggregationLocalizer
from tests.helpers import MAGNITUDES, assert_valid_boxes, oracle_box

pytestmark = pytest.mark.reliability

torch.set_num_threads(1)


def oracle_boxes(agg: torch.Tensor, img_shape, connectivity: int):
    """Boxes from the channel sum ``agg`` (N, H, W), written from the
    definition: threshold at the mean (eq. 48), then the scipy oracle
    (``oracle_box``: largest 8/4-connected component, first in raster order
    among ties, cell box scaled to pixels); the whole image when ``agg`` is
    not finite."""
    img_h, img_w = img_shape
    out = []
    for a in agg:
        a = a.double().numpy()
        whole = [0.0, 0.0, float(img_w), float(img_h)]
        if not np.isfinite(a).all():
            out.append(whole)
            continue
        # the threshold: the mean in the localizer's dtype (eq. 48)
        mean = float(torch.from_numpy(a).to(agg.dtype).mean())
        out.append(oracle_box(a > mean, img_shape, connectivity).tolist())
    return torch.tensor(out, dtype=torch.float64).reshape(-1, 4)


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

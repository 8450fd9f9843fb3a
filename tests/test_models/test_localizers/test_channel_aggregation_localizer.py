"""ChannelAggregationLocalizer against scipy.ndimage.label (independent oracle).

Tie rule under test: among the largest components, the one whose first cell
in raster order comes first.
"""
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from scipy import ndimage

import projects.fgvc_aam  # noqa: F401  (registers the localizer)
from projects.fgvc_aam.models.localizers import (ChannelAggregationLocalizer,
                                                 connected_components,
                                                 largest_component)
from tests.helpers import oracle_box, scipy_label

SIZES = [(1, 1), (1, 9), (9, 1), (7, 7), (14, 14), (28, 28), (5, 9), (13, 6)]


def random_masks(gen: np.random.Generator, num, height, width):
    """Masks of many kinds: Bernoulli at several densities, checkerboards
    (diagonal-only contacts), single cells, duplicated blobs (size ties),
    border-touching stripes."""
    masks = []
    for i in range(num):
        kind = i % 6
        if kind in (0, 1, 2):
            density = (0.15, 0.45, 0.7)[kind]
            m = gen.random((height, width)) < density
        elif kind == 3:  # checkerboard with holes: diagonal-only contacts
            yy, xx = np.mgrid[:height, :width]
            m = ((yy + xx) % 2 == 0) & (gen.random((height, width)) < 0.85)
        elif kind == 4:  # a few single cells (all size-1 ties)
            m = np.zeros((height, width), bool)
            k = gen.integers(1, 4)
            m.flat[gen.choice(height * width, min(k, height * width),
                              replace=False)] = True
        else:  # two equal blobs far apart -> size tie; touch the border
            m = np.zeros((height, width), bool)
            h, w = max(1, height // 3), max(1, width // 3)
            m[:h, :w] = True
            m[height - h:, width - w:] = True
            if gen.random() < 0.5:
                m = m[::-1].copy()
        masks.append(m)
    return np.stack(masks)


def check_partition(labels: np.ndarray, mask: np.ndarray, connectivity):
    """labels induce exactly scipy's partition of the foreground."""
    lab, num = scipy_label(mask, connectivity)
    assert ((labels >= 0) == mask).all()
    pairs = set(zip(lab[mask].tolist(), labels[mask].tolist()))
    assert len(pairs) == num == len(set(labels[mask].tolist()))


@pytest.mark.parametrize('connectivity', [8, 4])
@pytest.mark.parametrize('early_exit', [False, True])
def test_boxes_match_scipy_on_random_masks(connectivity, early_exit):
    gen = np.random.default_rng(connectivity * 10 + early_exit)
    total = 0
    for height, width in SIZES:
        masks = random_masks(gen, 150, height, width)
        total += len(masks)
        mask_t = torch.from_numpy(masks)
        labels = connected_components(mask_t, connectivity,
                                      early_exit).numpy()
        comp, found = largest_component(mask_t, connectivity, early_exit)
        img_shape = (3 * height + 1, 5 * width)  # non-divisible scale
        for i in range(len(masks)):
            check_partition(labels[i], masks[i], connectivity)
            expected = oracle_box(masks[i], img_shape, connectivity)
            assert bool(found[i]) == bool(masks[i].any())
            if not masks[i].any():
                continue
            ys, xs = np.nonzero(comp[i].numpy())
            cells = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            got = (cells * np.array([img_shape[1], img_shape[0]] * 2)
                   ).astype(np.float32) / np.array([width, height] * 2,
                                                   np.float32)
            np.testing.assert_array_equal(got, expected)
    assert total >= 1000


@pytest.mark.parametrize('connectivity', [8, 4])
def test_localize_from_features_matches_scipy(connectivity):
    """End to end from integer-valued features (exact sums and means)."""
    gen = np.random.default_rng(connectivity)
    loc = ChannelAggregationLocalizer(connectivity=connectivity)
    for height, width in SIZES:
        feats = gen.integers(-3, 5, (120, 6, height, width)).astype(np.float32)
        # smooth half of them so that they look like blobs
        feats[::2] = ndimage.uniform_filter(feats[::2], size=(1, 1, 3, 3),
                                            mode='nearest').round()
        img_shape = (4 * height, 3 * width + 2)
        boxes = loc.localize(torch.from_numpy(feats), img_shape)
        assert boxes.dtype == torch.float32 and boxes.shape == (120, 4)
        agg = feats.astype(np.float64).sum(1)
        for i in range(len(feats)):
            mask = agg[i] > agg[i].mean()
            expected = oracle_box(mask, img_shape, connectivity)
            np.testing.assert_array_equal(boxes[i].numpy(), expected)


def test_documented_examples():
    loc = ChannelAggregationLocalizer()
    agg = torch.zeros(1, 1, 4, 5)
    agg[0, 0, 1, 1] = agg[0, 0, 2, 2] = 10.  # diagonal contact
    agg[0, 0, 0, 4] = 10.
    # 8-connectivity: {(1,1),(2,2)} is the largest -> columns 1..2, rows 1..2
    box = loc.localize(agg, (40, 100))
    torch.testing.assert_close(box, torch.tensor([[20., 10., 60., 30.]]),
                               rtol=0, atol=0)
    # 4-connectivity: three single cells tie -> first in raster order (0, 4)
    box4 = ChannelAggregationLocalizer(connectivity=4).localize(
        agg, (40, 100))
    torch.testing.assert_close(box4, torch.tensor([[80., 0., 100., 10.]]),
                               rtol=0, atol=0)


def test_degenerate_inputs_give_whole_image():
    loc = ChannelAggregationLocalizer()
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(6, 3, 7, 7, generator=gen)
    feat[0] = 2.5  # constant map -> empty mask
    feat[1, 1, 3, 3] = float('nan')
    feat[2, 0, 0, 0] = float('inf')
    feat[3, 2, 6, 6] = -float('inf')
    feat[4] = float('nan')
    whole = torch.tensor([0., 0., 70., 56.])
    boxes = loc.localize(feat, (56, 70))
    for i in range(5):
        assert torch.equal(boxes[i], whole), i
    # the untouched image is unaffected by its neighbours
    alone = loc.localize(feat[5:], (56, 70))
    assert torch.equal(boxes[5], alone[0])
    # one cell
    one = loc.localize(torch.randn(3, 4, 1, 1), (32, 48))
    assert torch.equal(one, torch.tensor([[0., 0., 48., 32.]] * 3))
    # empty batch
    assert loc.localize(torch.randn(0, 4, 7, 7), (32, 32)).shape == (0, 4)


def _snake(height, width):
    m = np.zeros((height, width), bool)
    m[0::2] = True
    for r in range(1, height, 2):
        m[r, width - 1 if (r // 2) % 2 == 0 else 0] = True
    return m


def _spiral(size):
    m = np.zeros((size, size), bool)
    y, x, dy, dx = 0, 0, 0, 1
    top, left, bottom, right = 0, 0, size - 1, size - 1
    while top <= bottom and left <= right:
        m[top, left:right + 1] = True
        m[top:bottom + 1, right] = True
        if bottom - top >= 2:
            m[bottom, left:right + 1] = True
        if right - left >= 2 and bottom - top >= 4:
            m[top + 2:bottom + 1, left] = True
            m[top + 2, left:left + 2] = True
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
    return m


@pytest.mark.parametrize('early_exit', [False, True])
def test_long_thin_components(early_exit):
    """Snakes and spirals: geodesic diameters of hundreds of cells."""
    masks = [_snake(28, 28), _snake(27, 28)[::-1], _spiral(28), _spiral(27),
             _spiral(28).T, _snake(28, 28)[:, ::-1]]
    for connectivity in (4, 8):
        for m in masks:
            m = np.ascontiguousarray(m)
            labels = connected_components(torch.from_numpy(m)[None],
                                          connectivity, early_exit)[0]
            check_partition(labels.numpy(), m, connectivity)
            comp, _ = largest_component(torch.from_numpy(m)[None],
                                        connectivity, early_exit)
            ys, xs = np.nonzero(comp[0].numpy())
            box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                           np.float32)
            np.testing.assert_array_equal(
                box, oracle_box(m, m.shape, connectivity))


def test_all_foreground_mask_is_one_component():
    mask = torch.ones(2, 6, 5, dtype=torch.bool)
    comp, found = largest_component(mask)
    assert found.all() and comp.all()


def test_prev_stage_intersection_matches_scipy():
    gen = np.random.default_rng(3)
    loc = ChannelAggregationLocalizer(prev_in_index=-2)
    feat = gen.integers(-3, 5, (60, 4, 7, 7)).astype(np.float32)
    for prev_size in (7, 14):
        prev = gen.integers(-3, 5, (60, 4, prev_size, prev_size)).astype(
            np.float32)
        boxes = loc.localize(torch.from_numpy(feat), (112, 112),
                             prev_feat=torch.from_numpy(prev))
        agg = feat.astype(np.float64).sum(1)
        pagg = prev.astype(np.float64).sum(1)
        for i in range(len(feat)):
            pmask = pagg[i] > pagg[i].mean()
            if prev_size == 14:  # area-resize 2x2 blocks, keep >= half
                pmask = pmask.reshape(7, 2, 7, 2).mean((1, 3)) >= 0.5
            mask = (agg[i] > agg[i].mean()) & pmask
            np.testing.assert_array_equal(
                boxes[i].numpy(), oracle_box(mask, (112, 112), 8))
    # default: no intersection -> prev_feat ignored only when not given
    plain = loc.localize(torch.from_numpy(feat), (112, 112))
    ref = ChannelAggregationLocalizer().localize(torch.from_numpy(feat),
                                                 (112, 112))
    assert torch.equal(plain, ref)


def test_registry_and_validation():
    loc = MODELS.build(dict(type='ChannelAggregationLocalizer',
                            connectivity=4))
    assert isinstance(loc, ChannelAggregationLocalizer)
    assert len(list(loc.parameters())) == 0
    with pytest.raises(ValueError, match='connectivity.*6'):
        ChannelAggregationLocalizer(connectivity=6)
    with pytest.raises(TypeError, match='prev_in_index'):
        ChannelAggregationLocalizer(prev_in_index='a')
    with pytest.raises(TypeError, match='early_exit'):
        ChannelAggregationLocalizer(early_exit='yes')
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        loc.localize(torch.randn(4, 7, 7), (32, 32))


def test_half_precision_and_no_grad():
    loc = ChannelAggregationLocalizer()
    feat = torch.randn(4, 8, 7, 7, requires_grad=True)
    boxes = loc.localize(feat, (64, 64))
    assert not boxes.requires_grad
    boxes16 = loc.localize(feat.detach().double(), (64, 64))
    torch.testing.assert_close(boxes, boxes16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(64, 16, 14, 14, generator=gen)
    loc = ChannelAggregationLocalizer()
    cpu = loc.localize(feat, (224, 224))
    gpu = loc.localize(feat.cuda(), (224, 224))
    assert torch.equal(cpu, gpu.cpu())

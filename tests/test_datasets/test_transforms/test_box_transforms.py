"""Boxes through resize / crop / flip / centre crop / packing.

Hand-computed boxes for each transform, and a pixel oracle: a filled
rectangle drawn at the ground-truth box must, after any chain of
transforms, occupy exactly the transformed ``gt_bboxes``.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import DATASETS, TRANSFORMS

import projects.fgvc_aam  # noqa: F401

from tests.helpers import ROOT, colour_box, write_cub_tree


def _results(w, h, box, rect=True):
    img = np.zeros((h, w, 3), np.uint8)
    if rect:
        x1, y1, x2, y2 = (int(v) for v in box)
        img[y1:y2, x1:x2, 2] = 255  # BGR red
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w),
                gt_bboxes=np.array([box], dtype=np.float32))


def _apply(cfg, results):
    return TRANSFORMS.build(cfg)(results)


def test_mmcv_resize_scales_boxes():
    out = _apply(dict(type='Resize', scale=(200, 100)),
                 _results(100, 50, [10, 5, 30, 25]))
    np.testing.assert_allclose(out['gt_bboxes'], [[20, 10, 60, 50]])


def test_mmcv_flip_mirrors_boxes():
    out = _apply(dict(type='RandomFlip', prob=1., direction='horizontal'),
                 _results(20, 10, [2, 3, 5, 8]))
    np.testing.assert_allclose(out['gt_bboxes'], [[15, 3, 18, 8]])
    np.testing.assert_allclose(colour_box(out['img'], 2), [15, 3, 18, 8])


def test_mmcv_center_crop_shifts_and_clips():
    # 20x20 -> 10x10 centre crop starts at (5, 5)
    out = _apply(dict(type='CenterCrop', crop_size=10),
                 _results(20, 20, [6, 7, 12, 18]))
    np.testing.assert_allclose(out['gt_bboxes'], [[1, 2, 7, 10]])


def test_mmpretrain_random_crop_ignores_boxes():
    """Why BoxAwareRandomCrop exists: the upstream one leaves boxes."""
    res = _results(20, 20, [5, 5, 15, 15])
    out = _apply(dict(type='RandomCrop', crop_size=10), res)
    np.testing.assert_allclose(out['gt_bboxes'], [[5, 5, 15, 15]])
    np.random.seed(0)
    out = _apply(dict(type='RandomResizedCrop', scale=8),
                 _results(20, 20, [5, 5, 15, 15]))
    np.testing.assert_allclose(out['gt_bboxes'], [[5, 5, 15, 15]])


@pytest.mark.parametrize('cfg,size,box,offset,expect', [
    # plain crop at offset (3, 3): shift by -3 and clip to 10x10
    (dict(crop_size=10), (20, 20), [5, 2, 15, 8], 3, [2, 0, 10, 5]),
    # padding 2 on every side then offset 1: net shift +1
    (dict(crop_size=10, padding=2), (10, 10), [0, 0, 4, 4], 1,
     [1, 1, 5, 5]),
    # padding (left/right 3, top/bottom 1), offset 0: shift (+3, +1)
    (dict(crop_size=(12, 16), padding=(3, 1)), (10, 10), [0, 0, 4, 4], 0,
     [3, 1, 7, 5]),
    # pad_if_needed: 6x6 -> padded 10x10 (2 each side), offset 0: +2
    (dict(crop_size=10, pad_if_needed=True), (6, 6), [1, 1, 3, 3], 0,
     [3, 3, 5, 5]),
])
def test_box_aware_random_crop_hand_computed(monkeypatch, cfg, size, box,
                                             offset, expect):
    monkeypatch.setattr(np.random, 'randint', lambda lo, hi: offset)
    out = _apply(dict(type='BoxAwareRandomCrop', **cfg),
                 _results(*size, box))
    np.testing.assert_allclose(out['gt_bboxes'], [expect])
    assert out['img_shape'] == out['img'].shape[:2]
    # the red rectangle ended where the box says (when not clipped away)
    np.testing.assert_allclose(colour_box(out['img'], 2), expect)


def test_box_aware_random_resized_crop_hand_computed(monkeypatch):
    # area ratio 1/9 and aspect 1 of a 30x30 image: a 10x10 crop; offsets
    # (rows, cols) = (4, 2); then resize x2 to 20x20
    t = TRANSFORMS.build(dict(type='BoxAwareRandomResizedCrop', scale=20,
                              crop_ratio_range=(1 / 9, 1 / 9),
                              aspect_ratio_range=(1., 1.)))
    offsets = iter([4, 2])
    monkeypatch.setattr(np.random, 'randint', lambda lo, hi: next(offsets))
    out = t(_results(30, 30, [4, 6, 8, 20]))
    np.testing.assert_allclose(out['gt_bboxes'], [[4, 4, 12, 20]])
    assert out['img'].shape[:2] == (20, 20)


def test_box_aware_resize_edge_hand_computed():
    out = _apply(dict(type='BoxAwareResizeEdge', scale=10, edge='short'),
                 _results(40, 20, [4, 2, 12, 18]))
    assert out['img'].shape[:2] == (10, 20)
    np.testing.assert_allclose(out['gt_bboxes'], [[2, 1, 6, 9]])


@pytest.mark.parametrize('seed', range(6))
def test_random_chain_pixel_oracle(seed):
    """Resize (nearest) -> random crop -> random flip, random geometry: the
    rectangle's pixels and the box agree exactly."""
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in rng.integers(30, 60, 2))
    x1, y1 = int(rng.integers(0, w - 10)), int(rng.integers(0, h - 10))
    box = [x1, y1, int(rng.integers(x1 + 4, w)), int(rng.integers(y1 + 4, h))]
    np.random.seed(seed)
    res = _results(w, h, box)
    for cfg in (dict(type='Resize', scale=(2 * w, 2 * h),
                     interpolation='nearest'),
                dict(type='BoxAwareRandomCrop', crop_size=28),
                dict(type='RandomFlip', prob=0.5, direction='horizontal')):
        res = _apply(cfg, res)
    bx = res['gt_bboxes'][0]
    if bx[2] > bx[0] and bx[3] > bx[1]:
        np.testing.assert_allclose(colour_box(res['img'], 2), bx)
    else:  # the crop missed the rectangle: no red pixel left
        assert res['img'][..., 2].max() == 0


def test_pack_inputs_with_boxes():
    res = _results(8, 8, [1, 2, 3, 4])
    res['gt_label'] = 3
    out = _apply(dict(type='PackInputsWithBoxes'), res)
    boxes = out['data_samples'].gt_bboxes
    assert isinstance(boxes, torch.Tensor) and boxes.dtype == torch.float32
    assert boxes.shape == (1, 4)
    assert boxes.tolist() == [[1, 2, 3, 4]]
    assert out['data_samples'].gt_label.tolist() == [3]
    # upstream PackInputs leaves a numpy array (what this class fixes)
    up = _apply(dict(type='PackInputs', algorithm_keys=['gt_bboxes']),
                _results(8, 8, [1, 2, 3, 4]))
    assert isinstance(up['data_samples'].gt_bboxes, np.ndarray)
    # no boxes (Stanford Cars, FGVC-Aircraft): no field, no error
    res = _results(8, 8, [1, 2, 3, 4])
    del res['gt_bboxes']
    out = _apply(dict(type='PackInputsWithBoxes'), res)
    assert 'gt_bboxes' not in out['data_samples']


@pytest.mark.parametrize('split', ['train', 'test'])
def test_config_pipeline_gives_datasample_boxes(tmp_path, split):
    """The synthetic base config end to end, on a CUB tree of red
    rectangles: DataSample.gt_bboxes must frame the red pixels of the
    packed 128x128 input (bilinear resize: within 1 px)."""
    rng = np.random.default_rng(1)
    items = []
    for i in range(6):
        w, h = (int(v) for v in rng.integers(60, 200, 2))
        x, y = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        items.append(((w, h), (x, y, int(rng.integers(8, w - x)),
                               int(rng.integers(8, h - y))), i % 2, i % 2))
    root = write_cub_tree(str(tmp_path / 'rects'), items, num_classes=2)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/datasets/synthetic_fgvc_bs16_128.py'))
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    ds_cfg = loader.dataset.copy()
    ds_cfg.data_root = root
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 3
    np.random.seed(0)
    for i in range(len(ds)):
        sample = ds[i]
        ds_box = sample['data_samples'].gt_bboxes
        assert isinstance(ds_box, torch.Tensor) and ds_box.shape == (1, 4)
        img = sample['inputs'].numpy()  # (3, 128, 128), BGR
        assert img.shape == (3, 128, 128)
        b = ds_box[0].numpy()
        assert (b >= 0).all() and (b <= 128).all()
        if b[2] - b[0] >= 2 and b[3] - b[1] >= 2:
            np.testing.assert_allclose(colour_box(img, 2), b, atol=1.01)
        meta = sample['data_samples'].metainfo
        assert meta['img_shape'][:2] == (128, 128)
        info = ds.get_data_info(i)
        assert meta['ori_shape'] == items[int(info['img_path'][-7:-4]) -
                                          1][0][::-1]

"""RecordInputGeometry / boxes_to_original: a box on the network input
mapped back to the original image through resize and centre crop.
Oracle: hand computation."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets.transforms import (RecordInputGeometry,
                                                   boxes_to_original)

init_default_scope('mmpretrain')


def _results(h=100, w=200, gt=None):
    out = dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w),
               ori_shape=(h, w))
    if gt is not None:
        out['gt_bboxes'] = np.array(gt, np.float32)
    return out


def test_resize_then_centre_crop_maps_back_by_hand():
    # 200 x 100 -> Resize(144) (no aspect kept): 144 x 144, s = (0.72, 1.44)
    # -> CenterCrop(128): offset (8, 8) in resized pixels
    pipe = RecordInputGeometry([
        dict(type='Resize', scale=144),
        dict(type='CenterCrop', crop_size=128),
        dict(type='PackInputs')
    ])
    meta = pipe(_results())['data_samples'].metainfo
    assert meta['input_scale'] == pytest.approx((0.72, 1.44))
    assert meta['input_offset'] == pytest.approx((8, 8))
    # x: (8 + 8) / 0.72, (72 + 8) / 0.72; y: (8 + 8) / 1.44, (120 + 8) / 1.44
    box = boxes_to_original([[8, 8, 72, 120]], meta)
    assert box[0] == pytest.approx(
        [16 / 0.72, 16 / 1.44, 80 / 0.72, 128 / 1.44])


def test_resize_edge_then_centre_crop_maps_back_by_hand():
    # short edge 100 -> 144: 288 x 144, s = 1.44; crop 128: offset (80, 8)
    pipe = RecordInputGeometry([
        dict(type='ResizeEdge', scale=144),
        dict(type='CenterCrop', crop_size=128),
        dict(type='PackInputs')
    ])
    meta = pipe(_results())['data_samples'].metainfo
    assert meta['input_scale'] == pytest.approx((1.44, 1.44))
    assert meta['input_offset'] == pytest.approx((80, 8))
    box = boxes_to_original([[0, 0, 128, 128]], meta)
    assert box[0] == pytest.approx([80 / 1.44, 8 / 1.44, 208 / 1.44,
                                    136 / 1.44])


def test_ground_truth_boxes_are_untouched_by_the_probe():
    pipeline = [dict(type='Resize', scale=72),
                dict(type='CenterCrop', crop_size=64),
                dict(type='PackInputsWithBoxes')]
    gt = [[10, 20, 150, 90]]
    wrapped = RecordInputGeometry(pipeline)(_results(gt=gt))
    from mmengine.dataset import Compose
    from mmpretrain.registry import TRANSFORMS
    plain = Compose([TRANSFORMS.build(t) for t in pipeline])(_results(gt=gt))
    got = wrapped['data_samples'].gt_bboxes
    assert got.tolist() == plain['data_samples'].gt_bboxes.tolist()
    # by hand: s = (0.36, 0.72), offset (4, 4): the box becomes
    # [3.6 - 4, 14.4 - 4, 54 - 4, 64.8 - 4], x1 clipped to 0; mapped back,
    # the clipped x1 is the crop's left edge 4 / 0.36, the rest is exact
    assert got[0].tolist() == pytest.approx([0, 10.4, 50, 60.8], abs=1e-4)
    back = boxes_to_original(got, wrapped['data_samples'].metainfo)
    assert back[0] == pytest.approx([4 / 0.36, 20, 150, 90], abs=1e-3)


def test_flip_and_missing_geometry_are_refused():
    pipe = RecordInputGeometry([dict(type='RandomFlip', prob=1.0),
                                dict(type='PackInputs')])
    with pytest.raises(ValueError, match='RandomFlip flipped the image'):
        pipe(_results())
    with pytest.raises(KeyError, match='input_scale'):
        boxes_to_original([[0, 0, 1, 1]], dict(ori_shape=(10, 10)))


def test_pad_after_a_resize_is_not_taken_for_a_resize():
    """`scale_factor` stays in the results after a resize: a later Pad
    (bottom / right, boxes unmoved) must keep the scale, not rescale.
    By hand: 200 x 100 -> ResizeEdge(64) = 128 x 64, s = 0.64 both ways;
    Pad to 128 x 96 adds 32 rows at the bottom: s and offset unchanged."""
    pipe = RecordInputGeometry([
        dict(type='ResizeEdge', scale=64),
        dict(type='Pad', size=(128, 96)),
        dict(type='PackInputs')
    ])
    out = pipe(_results())
    assert out['inputs'].shape[-2:] == (96, 128)
    meta = out['data_samples'].metainfo
    assert meta['input_scale'] == pytest.approx((0.64, 0.64))
    assert meta['input_offset'] == pytest.approx((0, 0))

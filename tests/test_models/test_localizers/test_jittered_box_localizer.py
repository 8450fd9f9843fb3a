"""JitteredBoxLocalizer: boxes inside the input at the target IoU with the
GT (oracle: torchvision's box_iou), deterministic per sample."""
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torchvision.ops import box_iou

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.models.localizers import JitteredBoxLocalizer

GTS = [[4., 8., 20., 16.], [0., 0., 64., 48.], [50., 30., 64., 48.],
       [10.5, 3.25, 11.5, 40.], [0., 0., 60., 46.], [20., 10., 44., 38.]]


def _samples(gts, **meta):
    samples = [DataSample(metainfo=dict(sample_idx=i, **meta)) for i in
               range(len(gts))]
    for sample, box in zip(samples, gts):
        sample.set_field(torch.tensor([box]), 'gt_bboxes')
    return samples


@pytest.mark.parametrize('target', [0.5, 0.1, 0.9])
def test_iou_with_gt_is_the_target_and_boxes_stay_inside(target):
    loc = MODELS.build(dict(type='JitteredBoxLocalizer', target_iou=target))
    samples = _samples(GTS)
    boxes = loc(None, (48, 64), data_samples=samples)
    iou = box_iou(boxes, torch.tensor(GTS)).diagonal()
    assert (iou - target).abs().max() <= JitteredBoxLocalizer.TOLERANCE
    assert (boxes >= 0).all()
    assert (boxes[:, [0, 2]] <= 64).all() and (boxes[:, [1, 3]] <= 48).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    # the GT filling the input: IoU = box area / input area, by hand
    x1, y1, x2, y2 = boxes[1].tolist()
    assert (x2 - x1) * (y2 - y1) / (64 * 48) == pytest.approx(target,
                                                              abs=1e-3)


def test_deterministic_per_sample_and_seed():
    loc = JitteredBoxLocalizer()
    samples = _samples(GTS)
    first = loc(None, (48, 64), data_samples=samples)
    # the same sample alone, or in another batch order: the same box
    again = loc(None, (48, 64), data_samples=samples[::-1]).flip(0)
    assert torch.equal(first, again)
    assert torch.equal(loc(None, (48, 64), data_samples=samples[2:3]),
                       first[2:3])
    # another sample index or seed: another box (at the same IoU)
    moved = _samples(GTS)
    moved[5].set_metainfo(dict(sample_idx=99))
    assert not torch.equal(loc(None, (48, 64), data_samples=moved)[5],
                           first[5])
    other = JitteredBoxLocalizer(seed=1)(None, (48, 64), data_samples=samples)
    assert not torch.equal(other, first)


def test_target_one_is_the_gt_and_errors():
    gts = [[4., 8., 20., 16.], [-3., 2., 70., 9.]]  # the 2nd is clipped
    boxes = JitteredBoxLocalizer(target_iou=1.)(
        None, (48, 64), data_samples=_samples(gts))
    assert boxes.tolist() == [[4., 8., 20., 16.], [0., 2., 64., 9.]]
    with pytest.raises(ValueError, match='target_iou'):
        JitteredBoxLocalizer(target_iou=0.)
    flat = _samples([[5., 5., 5., 9.]], img_path='a/b.jpg')
    with pytest.raises(ValueError, match=r"b\.jpg.*no area"):
        JitteredBoxLocalizer()(None, (48, 64), data_samples=flat)
    with pytest.raises(ValueError, match=r'sample 0.*no ground-truth box'):
        JitteredBoxLocalizer()(None, (48, 64), data_samples=[DataSample()])

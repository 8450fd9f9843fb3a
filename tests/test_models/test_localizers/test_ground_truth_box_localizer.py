"""GroundTruthBoxLocalizer: the packed GT box, unchanged, and a clear error
naming the sample without one."""
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets.transforms import PackInputsWithBoxes


def _sample(boxes=None, **meta):
    sample = DataSample(metainfo=meta)
    if boxes is not None:
        sample.set_field(torch.tensor(boxes, dtype=torch.float32),
                         'gt_bboxes')
    return sample


def test_returns_the_packed_box_of_each_sample():
    loc = MODELS.build(dict(type='GroundTruthBoxLocalizer'))
    assert loc.in_index is None  # reads no feature map
    # one box packed by the real transform, one set by hand with two rows
    packed = PackInputsWithBoxes().transform(
        dict(img=torch.zeros(3, 64, 64).numpy().transpose(1, 2, 0),
             gt_bboxes=[[4, 8, 20, 16]], gt_label=0))['data_samples']
    samples = [packed, _sample([[1.5, 2., 30., 40.], [0., 0., 5., 5.]])]
    boxes = loc(None, (64, 64), data_samples=samples)
    assert boxes.dtype == torch.float32
    assert boxes.tolist() == [[4., 8., 20., 16.], [1.5, 2., 30., 40.]]


def test_missing_box_names_the_sample():
    loc = MODELS.build(dict(type='GroundTruthBoxLocalizer'))
    samples = [_sample([[0., 0., 4., 4.]]),
               _sample(img_path='data/cub/images/bird_017.jpg')]
    with pytest.raises(ValueError, match=r'sample 1 .*bird_017\.jpg.*'
                       r'no ground-truth box'):
        loc(None, (8, 8), data_samples=samples)
    with pytest.raises(ValueError, match='without data samples'):
        loc(torch.zeros(2, 4, 2, 2), (8, 8))

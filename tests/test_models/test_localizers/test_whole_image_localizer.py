"""WholeImageLocalizer: the box (0, 0, W, H), so that the object branch
sees the raw input again."""
import torch
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.models.classifiers import crop_and_resize


def test_box_is_the_whole_input_and_the_crop_is_identity():
    loc = MODELS.build(dict(type='WholeImageLocalizer'))
    feat = torch.randn(3, 8, 5, 6)
    boxes = loc(feat, (20, 24))
    assert boxes.dtype == torch.float32
    assert boxes.tolist() == [[0., 0., 24., 20.]] * 3
    x = torch.randn(3, 3, 20, 24)
    assert torch.equal(crop_and_resize(x, boxes, (20, 24)), x)

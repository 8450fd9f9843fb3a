"""VGGLastConv: MMPretrain's VGG with per-stage widths of the last conv.

Oracle: the official MC-loss VGG-16 layer list (CUB-200-2011.py line 60 of
PRIS-CV/Mutual-Channel-Loss), written out here, and MMPretrain's own VGG.
"""
import pytest
import torch
from mmcv.cnn import ConvModule

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS

OFFICIAL_VGG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512,
                  600, 'M', 512, 512, 600]


def _layout(net):
    out = []
    for m in net.features:
        if isinstance(m, ConvModule):
            out.append(m.conv.out_channels)
            assert m.norm.num_features == m.conv.out_channels
        else:
            out.append('M')
    return out


def test_official_mc_loss_vgg16_layout():
    net = MODELS.build(
        dict(type='VGGLastConv', depth=16, norm_cfg=dict(type='BN'),
             out_indices=(4, ), with_last_pool=False,
             last_conv_channels=(None, None, None, 600, 600)))
    assert _layout(net) == OFFICIAL_VGG16
    convs = [m.conv for m in net.features if isinstance(m, ConvModule)]
    assert all(a.out_channels == b.in_channels
               for a, b in zip(convs, convs[1:]))
    with torch.no_grad():
        out = net(torch.randn(1, 3, 64, 64))[0]
    assert out.shape == (1, 600, 4, 4)  # 64 / 16: no pool after stage 5


def test_no_change_is_vgg():
    net = MODELS.build(dict(type='VGGLastConv', depth=11,
                            last_conv_channels=(None, ) * 5))
    ref = MODELS.build(dict(type='VGG', depth=11))
    assert [tuple(p.shape) for p in net.parameters()] == [
        tuple(p.shape) for p in ref.parameters()]


def test_bad_length():
    with pytest.raises(ValueError, match='2 entries for 5 stages'):
        MODELS.build(dict(type='VGGLastConv', depth=11,
                          last_conv_channels=(None, 600)))


def test_classifier_with_a_resized_last_stage_is_refused():
    """VGG's own classifier expects 512 x 7 x 7 inputs: with a resized last
    conv it would fail in the first forward (shape mismatch), so the build
    refuses it, naming both arguments."""
    with pytest.raises(ValueError, match='num_classes.*last_conv_channels'):
        MODELS.build(dict(type='VGGLastConv', depth=11, num_classes=10,
                          last_conv_channels=(None, ) * 4 + (12, )))
    # a resized earlier stage keeps the classifier's input: allowed
    MODELS.build(dict(type='VGGLastConv', depth=11, num_classes=10,
                      last_conv_channels=(12, ) + (None, ) * 4))

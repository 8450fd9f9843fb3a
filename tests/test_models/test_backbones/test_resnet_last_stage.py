"""ResNetLastStage: MMPretrain's ResNet with a chosen last-stage width.

Oracle: MMPretrain's own ResNet-18 (same stages 1-3) and the official
MC-loss ResNet-18's layer4 (600 channels, stride 1: 14 x 14 at 224 px,
i.e. input / 16).
"""
import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS


def test_last_stage_width_and_stride():
    torch.manual_seed(0)
    net = MODELS.build(
        dict(type='ResNetLastStage', depth=18, strides=(1, 2, 2, 1),
             last_stage_channels=600, out_indices=(3, )))
    ref = MODELS.build(dict(type='ResNet', depth=18, out_indices=(3, )))
    for name in ('layer1', 'layer2', 'layer3'):
        ours = {k: v.shape for k, v in getattr(net, name).state_dict().items()}
        theirs = {k: v.shape
                  for k, v in getattr(ref, name).state_dict().items()}
        assert ours == theirs
    assert net.layer4[0].conv1.out_channels == 600
    assert net.layer4[1].conv2.out_channels == 600
    assert net.feat_dim == 600
    with torch.no_grad():
        out = net(torch.randn(1, 3, 64, 64))[0]
    assert out.shape == (1, 600, 4, 4)  # 64 / 16 at stride 1 in stage 4


def test_default_is_resnet():
    net = MODELS.build(dict(type='ResNetLastStage', depth=18))
    ref = MODELS.build(dict(type='ResNet', depth=18))
    assert sum(p.numel() for p in net.parameters()) == sum(
        p.numel() for p in ref.parameters())


def test_width_must_fit_the_block():
    with pytest.raises(ValueError, match='multiple of the block expansion 4'):
        MODELS.build(dict(type='ResNetLastStage', depth=50,
                          last_stage_channels=602))

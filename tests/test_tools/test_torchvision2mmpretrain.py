"""tools/model_converters/torchvision2mmpretrain.py (issue 24): torchvision
/ timm ResNet weights as backbone checkpoints.

Oracle: torchvision's own ResNet with random weights (and random BN
statistics), whose features before pooling must equal those of MMPretrain's
``ResNet`` after loading the converted file the way our configs do
(``init_cfg`` ``Pretrained``, ``prefix='backbone'``).
"""
import os

import pytest
import torch
import torchvision
from mmpretrain.models import ResNet

from fgvc_aam_tools.resnet_weights import ConversionError, convert_file
from tests.helpers import python_tool

pytestmark = pytest.mark.usefixtures('one_thread')


def _random_torchvision(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    net = getattr(torchvision.models, name)(weights=None)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    return net.eval()


def _torchvision_features(net, x):
    return torch.nn.Sequential(*list(net.children())[:-2])(x)


def _mmpretrain_features(depth, path, x, **kwargs):
    backbone = ResNet(depth, init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone'), **kwargs)
    backbone.init_weights()
    backbone.eval()  # ResNet.train() returns None
    return backbone(x)[-1]


@pytest.mark.parametrize('name,depth,tool', [
    pytest.param('resnet18', 18, True,  # 12 s
                 marks=[pytest.mark.slow, pytest.mark.e2e]),
    ('resnet50', 50, False)])
def test_converted_weights_give_torchvision_features(name, depth, tool,
                                                     tmp_path):
    net = _random_torchvision(name)
    src, dst = str(tmp_path / f'{name}.pth'), str(tmp_path / 'out.pth')
    torch.save(net.state_dict(), src)
    if tool:  # the command line, once
        proc = python_tool('tools/model_converters/torchvision2mmpretrain.py',
                           src, dst)
        assert f'ResNet-{depth}' in proc.stdout
    else:
        assert convert_file(src, dst) == depth
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        want = _torchvision_features(net, x)
        got = _mmpretrain_features(depth, dst, x)
        # the known layout difference: style='caffe' strides the 1x1 conv
        caffe = _mmpretrain_features(depth, dst, x, style='caffe')
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    if depth == 50:  # basic blocks have no 1x1 conv: the same there
        assert not torch.allclose(caffe, want, atol=1e-3)
    saved = torch.load(dst, weights_only=True)['state_dict']
    assert not any(k.startswith('backbone.fc.') for k in saved)


def test_timm_checkpoint_layout_is_read(tmp_path):
    """timm's plain resnets use torchvision's names; its training
    checkpoints keep them under "model" (here with DDP's "module.")."""
    net = _random_torchvision('resnet18')
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'out.pth')
    torch.save({'epoch': 3, 'model': {f'module.{k}': v for k, v in
                                      net.state_dict().items()}}, src)
    assert convert_file(src, dst) == 18
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(_mmpretrain_features(18, dst, x),
                                   _torchvision_features(net, x),
                                   rtol=1e-4, atol=1e-5)


def test_other_layouts_and_existing_output_are_refused(tmp_path):
    wide = str(tmp_path / 'wide.pth')
    torch.save(torchvision.models.wide_resnet50_2().state_dict(), wide)
    with pytest.raises(ConversionError, match=r'wide\.pth.*shapes differ'):
        convert_file(wide, str(tmp_path / 'out.pth'))
    assert not os.path.exists(tmp_path / 'out.pth')
    src = str(tmp_path / 'r18.pth')
    torch.save(torchvision.models.resnet18().state_dict(), src)
    existing = tmp_path / 'mine.pth'
    existing.write_bytes(b'keep')
    with pytest.raises(FileExistsError, match='mine.pth'):
        convert_file(src, str(existing))
    assert existing.read_bytes() == b'keep'


def test_unconverted_torchvision_file_fails_in_mmengine(tmp_path):
    """Why the converter: the configs' ``prefix='backbone'`` finds nothing
    in a torchvision file (the issue's premise)."""
    src = str(tmp_path / 'r18.pth')
    torch.save(torchvision.models.resnet18().state_dict(), src)
    with pytest.raises(AssertionError,
                       match='backbone. is not in the pretrained model'):
        _mmpretrain_features(18, src, torch.randn(1, 3, 32, 32))

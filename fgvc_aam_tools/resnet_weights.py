"""torchvision / timm ResNet weights as the backbone checkpoints our
configs load.

The configs load ImageNet weights with ``init_cfg=dict(type='Pretrained',
checkpoint=..., prefix='backbone')``: a checkpoint whose ``state_dict``
holds MMPretrain ``ResNet`` keys under ``backbone.`` (as MMPretrain
publishes them). torchvision's ``resnet18/34/50/101/152`` and timm's plain
``resnetXX`` state dicts use the same names as MMPretrain's ``ResNet``
(``conv1``, ``bn1``, ``layerN.M.convK``, ``downsample.0/1``) plus the
classifier ``fc``; both put the stride of a bottleneck on its 3x3 conv,
which is MMPretrain's ``style='pytorch'`` (the default, and what our
configs use; ``style='caffe'`` strides the first 1x1 conv). So the
conversion drops ``fc.*``, strips a ``module.`` prefix and adds
``backbone.``, after checking every name and shape against MMPretrain's
``ResNet`` of the depth the blocks give. Deep-stem variants (timm
``resnet50d``, MMPretrain ``ResNetV1d``) are refused.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Tuple

import torch

# blocks per stage -> depth, for basic (2 convs) and bottleneck blocks
_DEPTHS = {
    ((2, 2, 2, 2), False): 18,
    ((3, 4, 6, 3), False): 34,
    ((3, 4, 6, 3), True): 50,
    ((3, 4, 23, 3), True): 101,
    ((3, 8, 36, 3), True): 152,
}


class ConversionError(ValueError):
    """The state dict is not a plain torchvision / timm ResNet."""


def unwrap_state_dict(obj) -> Dict[str, torch.Tensor]:
    """The tensors of a loaded file: a bare state dict, or one under
    ``state_dict`` / ``model`` (timm's training checkpoints), without a
    ``module.`` prefix (data-parallel training)."""
    if isinstance(obj, dict):
        for key in ('state_dict', 'model'):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(
            isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConversionError('not a state dict (a mapping of names to '
                              'tensors, possibly under "state_dict" or '
                              '"model")')
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in obj.items())


def resnet_depth(state: Dict[str, torch.Tensor]) -> int:
    """The depth of a torchvision-layout ResNet state dict."""
    blocks = []
    for stage in range(1, 5):
        ids = {int(m.group(1)) for k in state
               if (m := re.match(rf'layer{stage}\.(\d+)\.', k))}
        blocks.append(len(ids))
    key = (tuple(blocks), 'layer1.0.conv3.weight' in state)
    if key not in _DEPTHS:
        raise ConversionError(
            f'not a torchvision / timm ResNet-18/34/50/101/152: blocks per '
            f'stage {tuple(blocks)}, bottleneck={key[1]} (first keys: '
            f'{", ".join(list(state)[:4])})')
    return _DEPTHS[key]


def convert_resnet(state: Dict[str, torch.Tensor],
                   prefix: str = 'backbone.') -> Tuple[Dict, int]:
    """``(converted state dict, depth)``: ``fc.*`` dropped, ``prefix``
    added; every other name and shape checked against MMPretrain's
    ``ResNet(depth)``."""
    from mmpretrain.models import ResNet
    state = OrderedDict((k, v) for k, v in state.items()
                        if not k.startswith('fc.'))
    depth = resnet_depth(state)
    expected = ResNet(depth).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ConversionError(
            f'the names differ from MMPretrain ResNet-{depth}: missing '
            f'{missing[:5]}, unexpected {unexpected[:5]} (a deep-stem or '
            'other variant?)')
    shapes = [f'{k} {tuple(v.shape)} (expected {tuple(expected[k].shape)})'
              for k, v in state.items() if v.shape != expected[k].shape]
    if shapes:
        raise ConversionError(
            f'shapes differ from MMPretrain ResNet-{depth} (a wide or '
            f'grouped variant?): {"; ".join(shapes[:3])}')
    return OrderedDict((prefix + k, v) for k, v in state.items()), depth


def convert_file(src: str, dst: str) -> int:
    """Convert the checkpoint ``src`` into ``dst`` (a new file: never
    overwritten, never written through a symlink; written to a temporary
    name and renamed). ``src`` is read with ``weights_only=True``: a
    checkpoint never runs code. Returns the depth."""
    if osp.lexists(dst):
        raise FileExistsError(f'{dst} exists; choose another output file')
    try:
        obj = torch.load(src, map_location='cpu', weights_only=True)
    except Exception as e:
        raise ConversionError(
            f'{src}: not a readable PyTorch checkpoint of plain tensors '
            f'({type(e).__name__}: {e})') from None
    try:
        state, depth = convert_resnet(unwrap_state_dict(obj))
    except ConversionError as e:
        raise ConversionError(f'{src}: {e}') from None
    tmp = f'{dst}.tmp-{os.getpid()}'
    with open(tmp, 'xb') as f:
        torch.save({'state_dict': state,
                    'meta': {'converted_from': osp.basename(src),
                             'layout': f'MMPretrain ResNet-{depth}, '
                                       "style='pytorch'"}}, f)
        f.flush()
        os.fsync(f.fileno())
    if osp.lexists(dst):
        os.unlink(tmp)
        raise FileExistsError(f'{dst} exists; choose another output file')
    os.rename(tmp, dst)
    return depth

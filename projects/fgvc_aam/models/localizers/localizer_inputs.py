"""Which backbone outputs a box source reads: the one rule, used by
:class:`TwoBranchClassifier` and the localization tools."""
from typing import Optional, Sequence, Tuple, Union

import torch.nn as nn
from torch import Tensor


def localizer_inputs(
    localizer: nn.Module,
    backbone_outs: Union[Tensor, Sequence[Tensor]],
    owner: str = 'TwoBranchClassifier'
) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """``(feat, prev_feat)`` of ``localizer`` from the backbone's outputs.

    ``feat = outs[localizer.in_index]`` (``in_index`` defaults to -1, the
    last output; ``in_index = None``: the box source reads no feature map,
    ``feat`` is None) and ``prev_feat = outs[localizer.prev_in_index]``
    (an earlier stage, MMAL-Net's AOLM; None where the attribute is absent
    or None). A single tensor counts as one output.

    Raises:
        ValueError: ``feat`` is not a (N, C, H, W) feature map; ``owner``
            names the caller in the message.
    """
    outs = backbone_outs
    if isinstance(outs, Tensor):
        outs = (outs, )
    in_index = getattr(localizer, 'in_index', -1)
    prev_index = getattr(localizer, 'prev_in_index', None)
    feat = None if in_index is None else outs[in_index]
    if in_index is not None and (not isinstance(feat, Tensor)
                                 or feat.dim() != 4):
        raise ValueError(
            f'{owner}: the localizer needs a (N, C, H, W) '
            f'feature map at backbone output {in_index}, got '
            f'{getattr(feat, "shape", type(feat))}; configure the '
            'backbone to output feature maps (e.g. out_type="featmap")')
    prev = None if prev_index is None else outs[prev_index]
    return feat, prev


__all__ = ['localizer_inputs']

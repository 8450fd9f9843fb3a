"""The whole input as the object box: two passes, no crop."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class WholeImageLocalizer(nn.Module):
    """Box ``(0, 0, W, H)`` for every image.

    The object branch of :class:`TwoBranchClassifier` then sees the raw
    input again (the crop of the whole input resized to the input size is
    the identity), so the two-branch model becomes "the same image twice,
    loss counted twice": the ablation that isolates the doubled loss from
    the crop. It reads only the batch size and device of the feature map.
    """

    def forward(self,
                feat: Tensor,
                img_shape: Sequence[int],
                prev_feat: Optional[Tensor] = None,
                data_samples: Optional[List] = None) -> Tensor:
        """Boxes (N, 4) float32 ``(0, 0, W, H)`` on ``feat``'s device."""
        img_h, img_w = (float(s) for s in img_shape)
        box = torch.tensor([0., 0., img_w, img_h], device=feat.device)
        return box.expand(feat.shape[0], 4).clone()


__all__ = ['WholeImageLocalizer']

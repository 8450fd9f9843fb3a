"""The cosines behind a margin-head model's scores.

A cosine (margin) head scores class ``j`` with ``logit_j = s * cos(theta_j)``
at evaluation (no margin); the two-branch classifier with
``test_branch='sum'`` adds the raw and object branches' logits. The score
the inferencer reports is ``softmax(logits)``: it is relative to the other
classes and sharpened by ``s``, not a calibrated probability of being
right. :func:`cosine_scale` is the factor that turns the logits back into
the cosine (the mean of both branches' cosines for ``'sum'``).
"""
from typing import Optional

import torch.nn as nn

__all__ = ['cosine_scale']


def cosine_scale(model: nn.Module) -> Optional[float]:
    """``s`` (``2 s`` for a two-branch ``'sum'`` model) of a model whose
    head is a :class:`CosineMarginHead`; None for any other head."""
    from ..models.heads.margin_head import CosineMarginHead
    head = getattr(model, 'head', None)
    if not isinstance(head, CosineMarginHead):
        return None
    branches = 2 if getattr(model, 'test_branch', None) == 'sum' else 1
    return float(head.scale) * branches

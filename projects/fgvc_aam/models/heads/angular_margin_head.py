"""Additive angular margin head with a run-time margin (AAM loss, eq. 51).

ArcFace (Deng et al., CVPR 2019, eq. 46 of the thesis) with the margin set
from outside while training, as the Adaptive Angular Margin loss needs::

    logit_j = s * cos(theta_j)              j != y
    logit_y = s * cos(theta_y + m)          training only

``theta_j`` is the angle between the L2-normalised feature and the
L2-normalised weight of class ``j``. Evaluation and prediction use the plain
``s * cos(theta_j)`` for every class.
"""
from typing import Optional, Union

import torch
from mmpretrain.registry import MODELS

from ...utils.checks import check_choice
from ...utils.deprecation import renamed_arguments
from .margin_head import (DEFAULT_SCALE, CosineMarginHead, MarginsType,
                          TopkType)

#: What happens to the target logit when ``theta_y + m`` passes ``pi``.
OVERFLOW_MODES = ('literal', 'monotonic', 'easy')


@MODELS.register_module()
class AngularMarginHead(CosineMarginHead):
    """ArcFace / AAM head whose margin is a persistent, settable buffer.

    A :class:`~.margin_head.CosineMarginHead` (so an MMPretrain
    :class:`ArcFaceClsHead` with the same ``norm_product`` layer,
    sub-centers and ``predict``, and its ``loss`` plus ``cal_acc``; a
    persistent per-class ``margins`` buffer that old checkpoints without it
    still load into; a validated in-place :meth:`set_margins`) whose target
    logit is ``cos(theta + m)``, computed as ``cos(theta) cos(m) -
    sin(theta) sin(m)`` with ``cos(theta)`` clamped to ``[-1, 1]`` and
    ``sin(theta) = sqrt(1 - cos^2)`` whose gradient is dropped where ``1 -
    cos^2 <= eps`` (exact values, finite gradients at ``cos(theta) = +-1``;
    ``torch.acos`` in ``ArcFaceClsHead`` gives NaN gradients there, and a
    NaN loss when rounding makes ``|cos| > 1``).

    ``overflow`` decides the target logit when ``theta_y + m > pi``:

    - ``'literal'`` (default): eq. 51 as written, ``cos(theta_y + m)``
      everywhere. Past ``pi`` it rises again with ``theta``, so the loss
      there pushes such samples further away (with ``m <= 0.5`` this needs
      ``theta_y > 151`` degrees). Trained from scratch this has a
      degenerate minimum: collapsed class weights with every feature at
      their antipode, where the target logit ``-s cos(m)`` beats all
      others (``-s``); our synthetic from-scratch configs fall into it and
      use ``'monotonic'``.
    - ``'monotonic'``: ArcFace's (and ``ArcFaceClsHead``'s default)
      fallback ``cos(theta_y) - m * sin(m)`` when ``theta_y + m >= pi``,
      which keeps the target logit decreasing in ``theta``.
    - ``'easy'``: ArcFace's "easy margin": the margin is only applied where
      ``cos(theta_y) > 0``.

    Args:
        num_classes (int): Number of classes (> 0).
        in_channels (int): Feature dimension (> 0).
        num_subcenters (int): Sub-centers per class (Sub-center ArcFace).
            Defaults to 1.
        scale (float): The scale ``s`` (> 0); the thesis gives none.
            Defaults to the family's :data:`~.margin_head.DEFAULT_SCALE`
            (30), which every real-data AAM config (Tables 7, 8 and 9)
            uses: chosen by the class-count argument of
            ``configs/aam/README.md``, never measured on real data.
        margin (float | Sequence[float] | str): Initial margin(s) ``m`` in
            ``[0, pi)``, one for every class or one per class; a ``.txt``
            file with one margin per line is read as in the parent. The
            hook overwrites it every epoch. Defaults to 0.5 (ArcFace).
            ``margins`` is its deprecated name.
        overflow (str): One of ``'literal'``, ``'monotonic'``, ``'easy'``.
            Defaults to ``'literal'``.
        loss (dict): Classification loss. Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    @renamed_arguments(margins='margin')
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_subcenters: int = 1,
                 scale: float = DEFAULT_SCALE,
                 margin: Union[MarginsType, str] = 0.5,
                 overflow: str = 'literal',
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        check_choice('overflow', overflow, OVERFLOW_MODES,
                     'AngularMarginHead')
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=scale,
            margin=margin,
            loss=loss,
            topk=topk,
            cal_acc=cal_acc,
            init_cfg=init_cfg)
        self.overflow = overflow

    def target_score(self, score_y: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
        """``cos(theta_y + m_y)`` (eq. 51) with the ``overflow`` rule."""
        cos_y = score_y.clamp(-1.0, 1.0)
        margin = self.margins[target]
        sin_y = _safe_sin_from_cos(cos_y)
        phi = cos_y * torch.cos(margin) - sin_y * torch.sin(margin)
        if self.overflow == 'monotonic':
            # theta + m >= pi  <=>  cos(theta) <= cos(pi - m) = -cos(m)
            phi = torch.where(cos_y > -torch.cos(margin), phi,
                              cos_y - margin * torch.sin(margin))
        elif self.overflow == 'easy':
            phi = torch.where(cos_y > 0, phi, cos_y)
        return phi

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, overflow={self.overflow!r}'


# ---------------------------------------------------------------- helpers
def _safe_sin_from_cos(cos: torch.Tensor) -> torch.Tensor:
    """``sin(acos(cos))`` with an exact forward and a finite gradient.

    ``sqrt(1 - c^2)`` has an infinite derivative at ``c = +-1``; where
    ``1 - c^2 <= eps`` (``theta`` within ~3e-4 rad of 0 or pi in float32)
    the value is kept but its gradient is dropped (double-``where`` trick,
    so no NaN reaches the backward pass either).
    """
    u = (1.0 - cos * cos).clamp(min=0.0)
    ok = u > torch.finfo(cos.dtype).eps
    sqrt_ok = torch.sqrt(torch.where(ok, u, torch.ones_like(u)))
    return torch.where(ok, sqrt_ok, torch.sqrt(u).detach())

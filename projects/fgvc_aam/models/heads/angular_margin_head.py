"""Additive angular margin head with a run-time margin (AAM loss, eq. 51).

ArcFace (Deng et al., CVPR 2019, eq. 46 of the thesis) with the margin set
from outside while training, as the Adaptive Angular Margin loss needs::

    logit_j = s * cos(theta_j)              j != y
    logit_y = s * cos(theta_y + m)          training only

``theta_j`` is the angle between the L2-normalised feature and the
L2-normalised weight of class ``j``. Evaluation and prediction use the plain
``s * cos(theta_j)`` for every class.
"""
import math
import numbers
import warnings
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmpretrain.models.heads import ArcFaceClsHead
from mmpretrain.registry import MODELS

MarginsType = Union[float, int, np.ndarray, torch.Tensor, Sequence[float]]

#: What happens to the target logit when ``theta_y + m`` passes ``pi``.
OVERFLOW_MODES = ('literal', 'monotonic', 'easy')


@MODELS.register_module()
class AngularMarginHead(ArcFaceClsHead):
    """ArcFace / AAM head whose margin is a persistent, settable buffer.

    A subclass of MMPretrain's :class:`ArcFaceClsHead` (same ``norm_product``
    layer, sub-centers, ``pre_logits``, ``loss`` and ``predict``) with three
    changes:

    1. ``margins`` is a *persistent* buffer (one value per class): it is
       saved in checkpoints and restored by ``--resume``. Loading a state
       dict without it (an MMPretrain ``ArcFaceClsHead`` checkpoint or one
       written before this head existed) keeps the current margins and warns
       instead of failing, also under ``strict=True``.
    2. :meth:`set_margins` accepts a python / numpy number, a 0-d tensor, or
       one value per class (sequence, array or 1-d tensor), validates it and
       writes it in place (no new tensor, same device, no host sync for a
       python number). The ``MarginScheduleHook`` calls it each epoch.
    3. ``cos(theta + m)`` is computed as ``cos(theta) cos(m) -
       sin(theta) sin(m)`` with ``cos(theta)`` clamped to ``[-1, 1]`` and
       ``sin(theta) = sqrt(1 - cos^2)`` whose gradient is dropped where
       ``1 - cos^2 <= eps`` (exact values, finite gradients at
       ``cos(theta) = +-1``; ``torch.acos`` in the parent gives NaN
       gradients there, and a NaN loss when rounding makes ``|cos| > 1``).

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
        scale (float): The scale ``s`` (> 0). Defaults to 30.0, see
            ``configs/aam/README.md`` for the choice.
        margins (float | Sequence[float] | str): Initial margin(s) in
            ``[0, pi)``; a ``.txt`` file with one margin per line is read
            as in the parent. The hook overwrites it every epoch.
            Defaults to 0.5 (ArcFace).
        overflow (str): One of ``'literal'``, ``'monotonic'``, ``'easy'``.
            Defaults to ``'literal'``.
        loss (dict): Classification loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_subcenters: int = 1,
                 scale: float = 30.0,
                 margins: Union[MarginsType, str] = 0.5,
                 overflow: str = 'literal',
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None):
        _check_positive_int('num_classes', num_classes)
        _check_positive_int('in_channels', in_channels)
        _check_positive_int('num_subcenters', num_subcenters)
        if (isinstance(scale, bool) or not isinstance(scale, numbers.Real)
                or not math.isfinite(scale) or scale <= 0):
            raise ValueError(
                f'AngularMarginHead: `scale` must be a finite number > 0, '
                f'got {scale!r}')
        if overflow not in OVERFLOW_MODES:
            raise ValueError(f'AngularMarginHead: `overflow` must be one of '
                             f'{OVERFLOW_MODES}, got {overflow!r}')
        if not (isinstance(margins, str) and margins.endswith('.txt')):
            margins = _margins_to_list(margins, num_classes, 'margins')
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=float(scale),
            margins=margins,
            easy_margin=overflow == 'easy',
            loss=loss,
            init_cfg=init_cfg)
        self.overflow = overflow
        # The parent caches sin(m)*m and -cos(m) in non-persistent buffers
        # that would go stale when a checkpoint restores `margins`; they are
        # derived in forward instead.
        del self.sinm_m, self.threshold
        # Re-register `margins` as persistent so it is saved and resumed.
        margins_tensor = self.margins
        del self.margins
        self.register_buffer('margins', margins_tensor, persistent=True)
        _check_margin_range(self.margins, 'margins')

    # ------------------------------------------------------------ margins
    @torch.no_grad()
    def set_margins(self, margins: MarginsType) -> None:
        """Set the margin(s) in place; a scalar applies to every class.

        Args:
            margins: A python / numpy number or 0-d tensor, or one value per
                class. Each must lie in ``[0, pi)``.
        """
        if isinstance(margins, numbers.Real) and not isinstance(
                margins, bool):
            value = float(margins)
            if not (0.0 <= value < math.pi):  # also rejects NaN
                raise ValueError(
                    f'AngularMarginHead.set_margins: `margins` must lie in '
                    f'[0, pi), got {margins!r}')
            self.margins.fill_(value)  # no host sync, same storage
            return
        if isinstance(margins, torch.Tensor) and margins.dim() == 0:
            value = margins.detach().to(self.margins)
            _check_margin_range(value, 'margins', 'set_margins')
            self.margins.fill_(value)
            return
        values = _margins_to_list(margins, self.num_classes, 'margins',
                                  'set_margins')
        self.margins.copy_(torch.tensor(values, dtype=self.margins.dtype))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Accept state dicts without ``margins`` (old / upstream heads)."""
        key = prefix + 'margins'
        if key not in state_dict:
            warnings.warn(
                f'AngularMarginHead: the state dict has no `{key}` (a '
                'checkpoint of ArcFaceClsHead or from before margins were '
                'saved); keeping the current margins. MarginScheduleHook '
                'sets them again before the next training epoch.')
            state_dict[key] = self.margins.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    # ------------------------------------------------------------- logits
    def pre_logits(self, feats) -> torch.Tensor:
        """The last feature, in the dtype of the class weights.

        The parent computes the cosines with autocast disabled, so
        half-precision features (mixed-precision training, ``--amp``) would
        meet float32 weights in ``F.linear`` and fail.
        """
        x = super().pre_logits(feats)
        return x.to(self.norm_product.weight.dtype)

    def _get_logit_with_margin(self, pre_logits: torch.Tensor,
                               target: torch.Tensor) -> torch.Tensor:
        """Cosine logits with ``cos(theta_y + m_y)`` at the target (eq. 51).

        Returns the (unscaled) cosine matrix; ``forward`` multiplies by s.
        """
        assert target.dim() == 1 or (
            target.dim() == 2 and target.shape[1] == 1), \
            'The target must be in index format.'
        target = target.reshape(-1, 1).long()
        cosine = self.norm_product(pre_logits)
        cos_y = cosine.gather(1, target).clamp(-1.0, 1.0)
        margin = self.margins[target]
        sin_y = _safe_sin_from_cos(cos_y)
        phi = cos_y * torch.cos(margin) - sin_y * torch.sin(margin)
        if self.overflow == 'monotonic':
            # theta + m >= pi  <=>  cos(theta) <= cos(pi - m) = -cos(m)
            phi = torch.where(cos_y > -torch.cos(margin), phi,
                              cos_y - margin * torch.sin(margin))
        elif self.overflow == 'easy':
            phi = torch.where(cos_y > 0, phi, cos_y)
        return cosine.scatter(1, target, phi.to(cosine.dtype))

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, scale={self.scale}, '
                f'overflow={self.overflow!r}')


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


def _check_positive_int(name: str, value) -> None:
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value <= 0):
        raise ValueError(
            f'AngularMarginHead: `{name}` must be an integer > 0, '
            f'got {value!r}')


def _check_margin_range(margins: torch.Tensor,
                        name: str,
                        where: str = '__init__') -> None:
    bad = ~((margins >= 0) & (margins < math.pi))  # NaN counts as bad
    if bool(bad.any()):
        raise ValueError(
            f'AngularMarginHead.{where}: `{name}` must lie in [0, pi), got '
            f'{margins[bad].flatten()[:5].tolist()} (first offending values)')


def _margins_to_list(margins,
                     num_classes: int,
                     name: str,
                     where: str = '__init__') -> List[float]:
    """Normalise a scalar or per-class margin spec into a checked list."""
    if isinstance(margins, torch.Tensor):
        margins = margins.detach().cpu().numpy()
    if isinstance(margins, np.ndarray) and margins.ndim == 0:
        margins = margins.item()
    if isinstance(margins, numbers.Real) and not isinstance(margins, bool):
        values = [float(margins)] * num_classes
    else:
        try:
            values = [float(v) for v in margins]
        except (TypeError, ValueError):
            raise TypeError(
                f'AngularMarginHead.{where}: `{name}` must be a number, a '
                f'sequence of numbers or a .txt file, got {margins!r}'
            ) from None
        if len(values) != num_classes:
            raise ValueError(
                f'AngularMarginHead.{where}: `{name}` has {len(values)} '
                f'values but num_classes={num_classes}')
    bad = [v for v in values if not (0.0 <= v < math.pi)]
    if bad:
        raise ValueError(
            f'AngularMarginHead.{where}: `{name}` must lie in [0, pi), got '
            f'{bad[:5]} (first offending values)')
    return values

"""The margin-head family: one base for the margin classifier heads.

Every head scores each class with ``g_j(x)`` on the last feature ``x`` and
multiplies by a scale ``s(x)``; in training the target's score is replaced
by its margin version ``psi(g_y)``::

    logit_j = s(x) * g_j(x)           j != y, and every j at evaluation
    logit_y = s(x) * psi(g_y(x))      training only

=================  ===============  ==============================  =======
head               g_j(x)           psi(g_y)                        s(x)
=================  ===============  ==============================  =======
AngularMarginHead  cos(theta_j)     cos(theta_y + m_y) (ArcFace)    s
CosFaceHead        cos(theta_j)     cos(theta_y) - m_y              s
SphereFaceHead     cos(theta_j)     (lam cos + psi_m) / (1 + lam)   ||x||
COCOHead           cos(x, c_j)      g_y (no margin)                 alpha
LGMHead            -d_j             -(1 + alpha) d_y                1
=================  ===============  ==============================  =======

:class:`MarginHead` owns the feature check, the dtype handling and the
train / evaluation logits; :class:`CosineMarginHead` adds the normalised
(sub-centre) class weights of MMPretrain's :class:`ArcFaceClsHead` and a
persistent, settable per-class ``margins`` buffer. A head overrides only
:meth:`MarginHead.target_score` (and its own arguments).
"""
import math
import numbers
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import ArcFaceClsHead, ClsHead

from ...utils.checks import check_float, check_int

MarginsType = Union[float, int, np.ndarray, torch.Tensor, Sequence[float]]


def cosine(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``cos(theta_j) = x^ . w^_j`` of L2-normalised rows, (N, K)."""
    return F.linear(F.normalize(x, dim=1), F.normalize(weight, dim=1))


class MarginHead(ClsHead):
    """Base of the margin heads: ``s(x) * g(x)`` with ``psi`` at the target.

    Subclasses build their class weights in ``__init__`` and define
    :attr:`class_weight` and :meth:`class_scores` (``g``); they override
    :meth:`target_score` (``psi``, identity by default) and
    :meth:`logit_scale` (``s(x)``, ``self.scale`` by default). Extra
    arguments of :meth:`forward` (after ``target``) go to
    :meth:`target_score`.
    """

    @property
    def class_weight(self) -> torch.Tensor:
        """The (K, C) class weights; features are cast to their dtype."""
        raise NotImplementedError

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``g_j(x)`` for every class, (N, K)."""
        raise NotImplementedError

    def target_score(self, score_y: torch.Tensor, target: torch.Tensor,
                     *args, **kwargs) -> torch.Tensor:
        """``psi(g_y)`` of the target scores (N, 1); no margin by default."""
        return score_y

    def logit_scale(self, x: torch.Tensor) -> Union[float, torch.Tensor]:
        """``s(x)``: a number or an (N, 1) tensor."""
        return self.scale

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last feature, (N, C), in the dtype of the class weights.

        The logits are computed with autocast disabled, so half-precision
        features (``--amp``) are cast instead of failing in ``F.linear``.
        """
        x = feats[-1]
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x)
            raise ValueError(f'{type(self).__name__} needs (N, C) features '
                             f'(use a GAP neck), got {shape}')
        return x.to(self.class_weight.dtype)

    def with_margin(self, scores: torch.Tensor, target: torch.Tensor, *args,
                    **kwargs) -> torch.Tensor:
        """``scores`` with ``psi(g_y)`` at each sample's target class."""
        if not (target.dim() == 1 or
                (target.dim() == 2 and target.shape[1] == 1)):
            raise ValueError(f'{type(self).__name__}: the target must be '
                             f'class indices, got shape {tuple(target.shape)}')
        target = target.reshape(-1, 1).long()
        score_y = self.target_score(
            scores.gather(1, target), target, *args, **kwargs)
        # scatter, not F.one_hot: no device-to-host check of the labels.
        return scores.scatter(1, target, score_y.to(scores.dtype))

    def forward(self,
                feats: Tuple[torch.Tensor],
                target: Optional[torch.Tensor] = None,
                *args,
                **kwargs) -> torch.Tensor:
        """``s(x) g(x)``; with ``target`` (index format) the margin logits."""
        x = self.pre_logits(feats)
        with torch.autocast(device_type=x.device.type, enabled=False):
            scores = self.class_scores(x)
            if target is not None:
                scores = self.with_margin(scores, target, *args, **kwargs)
            return self.logit_scale(x) * scores


class CosineMarginHead(MarginHead, ArcFaceClsHead):
    """Cosine margin head: ``s * cos(theta_j)``, a margin at the target.

    MMPretrain's :class:`ArcFaceClsHead` (its ``NormProduct`` with
    sub-centres, ``loss`` with batch-augmentation targets, ``predict``, and
    ``SetAdaptiveMarginsHook`` support) with:

    1. ``margins`` a *persistent* buffer (one value per class), saved in
       checkpoints and restored by ``--resume``. A state dict without it
       (an ``ArcFaceClsHead`` checkpoint, or one written before margins were
       saved) keeps the current margins and warns, also with
       ``strict=True``.
    2. :meth:`set_margins`, validated and in place (``MarginScheduleHook``
       calls it every epoch).
    3. No cached functions of the margins (they would go stale on load).

    Subclasses override :meth:`target_score` (``psi(cos theta_y)``, with
    ``self.margins[target]``) and set :attr:`max_margin`.

    Args:
        num_classes (int): Number of classes (>= 1).
        in_channels (int): Feature dimension (>= 1).
        num_subcenters (int): Sub-centres per class. Defaults to 1.
        scale (float): ``s`` > 0. Defaults to 64.
        margins (float | Sequence[float] | str): Initial margin(s) in
            ``[0, max_margin)``, or a ``.txt`` file with one per line.
            Defaults to 0.5.
        loss (dict): Classification loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Initialisation config.
    """

    #: Margins must lie in ``[0, max_margin)``.
    max_margin: float = math.pi
    #: How messages write ``max_margin``.
    max_margin_text: str = 'pi'

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_subcenters: int = 1,
                 scale: float = 64.0,
                 margins: Union[MarginsType, str] = 0.5,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        owner = type(self).__name__
        check_int('num_classes', num_classes, 1, owner)
        check_int('in_channels', in_channels, 1, owner)
        check_int('num_subcenters', num_subcenters, 1, owner)
        scale = check_float('scale', scale, 0.0, strict_min=True, owner=owner)
        if not (isinstance(margins, str) and margins.endswith('.txt')):
            margins = self._margins_to_list(margins, num_classes)
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=scale,
            margins=margins,
            loss=loss,
            init_cfg=init_cfg)
        # The parent caches sin(m) m and -cos(m) in non-persistent buffers
        # that would go stale when a checkpoint restores `margins`.
        del self.sinm_m, self.threshold
        margins_tensor = self.margins
        del self.margins
        self.register_buffer('margins', margins_tensor, persistent=True)
        self._check_margin_range(self.margins)

    @property
    def class_weight(self) -> torch.Tensor:
        return self.norm_product.weight

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``cos(theta_j)`` (the best sub-centre)."""
        return self.norm_product(x)

    def _get_logit_with_margin(self, pre_logits: torch.Tensor,
                               target: torch.Tensor) -> torch.Tensor:
        """``ArcFaceClsHead``'s hook: the unscaled margin cosines."""
        return self.with_margin(self.class_scores(pre_logits), target)

    # ------------------------------------------------------------ margins
    @torch.no_grad()
    def set_margins(self, margins: MarginsType) -> None:
        """Set the margin(s) in place; a scalar applies to every class.

        Args:
            margins: A python / numpy number or 0-d tensor (no host sync for
                a python number), or one value per class (sequence, array or
                1-d tensor), each in ``[0, max_margin)``.
        """
        if isinstance(margins, numbers.Real) and not isinstance(
                margins, bool):
            value = float(margins)
            if not (0.0 <= value < self.max_margin):  # also rejects NaN
                raise ValueError(
                    f'{type(self).__name__}.set_margins: `margins` must lie '
                    f'in [0, {self.max_margin_text}), got {margins!r}')
            self.margins.fill_(value)
            return
        if isinstance(margins, torch.Tensor) and margins.dim() == 0:
            value = margins.detach().to(self.margins)
            self._check_margin_range(value, 'set_margins')
            self.margins.fill_(value)
            return
        values = self._margins_to_list(margins, self.num_classes,
                                       'set_margins')
        self.margins.copy_(torch.tensor(values, dtype=self.margins.dtype))

    def _check_margin_range(self,
                            margins: torch.Tensor,
                            where: str = '__init__') -> None:
        bad = ~((margins >= 0) & (margins < self.max_margin))  # NaN is bad
        if bool(bad.any()):
            raise ValueError(
                f'{type(self).__name__}.{where}: `margins` must lie in '
                f'[0, {self.max_margin_text}), got '
                f'{margins[bad].flatten()[:5].tolist()} '
                '(first offending values)')

    def _margins_to_list(self,
                         margins: MarginsType,
                         num_classes: int,
                         where: str = '__init__') -> List[float]:
        """A scalar or per-class margin spec as a checked list."""
        owner = f'{type(self).__name__}.{where}'
        if isinstance(margins, torch.Tensor):
            margins = margins.detach().cpu().numpy()
        if isinstance(margins, np.ndarray) and margins.ndim == 0:
            margins = margins.item()
        if isinstance(margins, numbers.Real) and not isinstance(
                margins, bool):
            values = [float(margins)] * num_classes
        else:
            try:
                values = [float(v) for v in margins]
            except (TypeError, ValueError):
                raise TypeError(
                    f'{owner}: `margins` must be a number, a sequence of '
                    f'numbers or a .txt file, got {margins!r}') from None
            if len(values) != num_classes:
                raise ValueError(
                    f'{owner}: `margins` has {len(values)} values but '
                    f'num_classes={num_classes}')
        bad = [v for v in values if not (0.0 <= v < self.max_margin)]
        if bad:
            raise ValueError(
                f'{owner}: `margins` must lie in [0, {self.max_margin_text}),'
                f' got {bad[:5]} (first offending values)')
        return values

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Accept state dicts without ``margins`` (old / upstream heads)."""
        key = prefix + 'margins'
        if key not in state_dict:
            warnings.warn(
                f'{type(self).__name__}: the state dict has no `{key}` (a '
                'checkpoint of ArcFaceClsHead or from before margins were '
                'saved); keeping the current margins. MarginScheduleHook '
                'sets them again before the next training epoch.')
            state_dict[key] = self.margins.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return f'num_classes={self.num_classes}, scale={self.scale}'

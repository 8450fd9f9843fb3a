"""The margin-head family: one base for the margin classifier heads.

Every head scores each class with ``g_j(x)`` on the last feature ``x`` and
multiplies by a scale ``s(x)``; in training the target's score is replaced
by its margin version ``psi(g_y)``::

    logit_j = s(x) * g_j(x)           j != y, and every j at evaluation
    logit_y = s(x) * psi(g_y(x))      training only

=================  ============  ===========================  =====  =======
head               g_j(x)        psi(g_y)                     s(x)   margin
=================  ============  ===========================  =====  =======
AngularMarginHead  cos(theta_j)  cos(theta_y + m_y)           s      m_y
CosFaceHead        cos(theta_j)  cos(theta_y) - m_y           s      m_y
SphereFaceHead     cos(theta_j)  (lam cos + psi_m) / (1+lam)  ||x||  int m
COCOHead           cos(x, c_j)   g_y                          s      none
LGMHead            -d_j          -(1 + m) d_y                 1      m
=================  ============  ===========================  =====  =======

One interface: the margin is ``margin`` and the scale ``scale`` in every
head that has them (default :data:`DEFAULT_SCALE`); a head whose loss has
no scale (SphereFace: the feature norm; L-GM: distances) or no margin
(COCO) does not take the argument. Every head also takes ClsHead's
``loss``, ``topk``, ``cal_acc`` and ``init_cfg``.

:class:`MarginHead` owns the feature check, the dtype handling, the train /
evaluation logits and the loss (with ``cal_acc``); :class:`CosineMarginHead`
adds the normalised (sub-centre) class weights of MMPretrain's
:class:`ArcFaceClsHead` and a persistent, settable per-class ``margins``
buffer. A new margin loss is a subclass that overrides
:meth:`MarginHead.target_score` (the target logit) and, for new class
weights, :meth:`MarginHead.class_scores`. Beyond that, only state that is
not a margin: ``SphereFaceHead.loss`` counts the iterations of its lambda
annealing, ``LGMHead.loss`` adds the likelihood term; ``COCOHead`` keeps
the identity ``target_score`` (no margin).
"""
import math
import numbers
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.evaluation import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...compat.mmpretrain import (ArcFaceMarginCosines,
                                  drop_arcface_easy_margin,
                                  drop_arcface_margin_cache)
from ...utils.checks import check_bool, check_float, check_int, labels_of
from ...utils.deprecation import renamed_arguments

MarginsType = Union[float, int, np.ndarray, torch.Tensor, Sequence[float]]
TopkType = Union[int, Tuple[int, ...]]

#: The family's default logit scale ``s``, one value for every head that
#: has a scale (AngularMarginHead, CosFaceHead, COCOHead).
#:
#: The logits of a normalised head lie in ``[-s, s]``, so ``s`` bounds the
#: target probability: with ``C`` classes, the other classes orthogonal to
#: the feature and the margin ``m`` at the target, it is at most
#: ``exp(s cos m) / (exp(s cos m) + C - 1)``; reaching 0.99 with
#: ``m = 0.5`` needs ``s >= ln(99 (C - 1)) / cos(m)``: 11.3 at 200 classes
#: (CUB, Cars), 10.5 at 100 (Aircraft). Fine-grained classes are far from
#: orthogonal, so ``s = 30`` leaves 2.7x headroom at 200 classes; it is the
#: scale of every real-data AAM config (``configs/aam/README.md``, "Scale";
#: chosen by this argument, never measured on real data). CosFace's own
#: bound ``s >= (C - 1) / C ln((C - 1) P / (1 - P))`` gives 9.8 at
#: ``C = 200``, ``P = 0.99``; ArcFace's / CosFace's / MMPretrain's 64 was
#: tuned for 10^4 - 10^5 face identities. The Table 8 configs write their
#: authors' scales (CosFace 64, COCO 16) explicitly.
DEFAULT_SCALE: float = 30.0


def cosine(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``cos(theta_j) = x^ . w^_j`` of L2-normalised rows, (N, K)."""
    return F.linear(F.normalize(x, dim=1), F.normalize(weight, dim=1))


def check_scale(scale: float, owner: str) -> float:
    """The logit scale ``s``: a finite number > 0."""
    return check_float('scale', scale, 0.0, strict_min=True, owner=owner)


def check_topk(topk: TopkType, owner: str) -> Tuple[int, ...]:
    """ClsHead's ``topk``: an int >= 1 or a non-empty sequence of them."""
    values = tuple(topk) if isinstance(topk, (tuple, list)) else (topk, )
    if not values:
        raise ValueError(f'{owner}: `topk` must not be empty')
    return tuple(check_int('topk', k, 1, owner) for k in values)


class MarginHead(ClsHead):
    """Base of the margin heads: ``s(x) * g(x)`` with ``psi`` at the target.

    Subclasses build their class weights in ``__init__`` and define
    :attr:`class_weight` and :meth:`class_scores` (``g``); they override
    :meth:`target_score` (``psi``, identity by default) and
    :meth:`logit_scale` (``s(x)``, ``self.scale`` by default). Extra
    arguments of :meth:`forward` (after ``target``) go to
    :meth:`target_score`.

    :meth:`loss` is the one training loss of the family: ``loss_module`` on
    the margin logits, the margin at each sample's ``gt_label`` and the
    loss on ``gt_score`` when a batch augmentation set it (as MMPretrain's
    ``ArcFaceClsHead``). With ``cal_acc=True`` it also returns the top-k
    training accuracy (``accuracy_top-k``, percent) of the evaluation
    logits (no margin: what :meth:`predict` ranks).
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

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss``: ``loss_module`` of the margin logits (see the class).

        Args:
            feats: Backbone / neck features; the last one is used.
            data_samples: The batch's samples, each with a ``gt_label``
                (and a ``gt_score`` after a batch augmentation).
            **kwargs: Passed to ``loss_module``.
        """
        owner = type(self).__name__
        label = labels_of(data_samples, owner)
        soft = 'gt_score' in data_samples[0]
        target = (torch.stack([s.gt_score for s in data_samples])
                  if soft else label)
        cls_score = self(feats, label)
        losses = dict(
            loss=self.loss_module(
                cls_score, target, avg_factor=cls_score.size(0), **kwargs))
        if self.cal_acc:
            if soft:
                raise ValueError(
                    f'{owner}: `cal_acc=True` needs hard labels, but the '
                    'batch has `gt_score` targets (a batch augmentation such '
                    'as Mixup): set cal_acc=False')
            losses.update(self.accuracy(feats, label))
        return losses

    def accuracy(self, feats: Tuple[torch.Tensor],
                 label: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``accuracy_top-k`` (percent) of the evaluation logits, no grad."""
        with torch.no_grad():
            scores = self(feats)
        # thrs=None: logits may be negative (LGM's always are); ClsHead's
        # default threshold 0 would count such top-1 predictions as wrong.
        acc = Accuracy.calculate(scores, label, topk=self.topk, thrs=(None, ))
        return {f'accuracy_top-{k}': a[0] for k, a in zip(self.topk, acc)}


class CosineMarginHead(MarginHead, ArcFaceMarginCosines):
    """Cosine margin head: ``s * cos(theta_j)``, a margin at the target.

    MMPretrain's :class:`ArcFaceClsHead` (its ``NormProduct`` with
    sub-centres, ``predict``, and ``SetAdaptiveMarginsHook`` support) with:

    1. ``margins`` a *persistent* buffer (one value per class), saved in
       checkpoints and restored by ``--resume``. A state dict without it
       (an ``ArcFaceClsHead`` checkpoint, or one written before margins were
       saved) keeps the current margins and warns, also with
       ``strict=True``.
    2. :meth:`set_margins`, validated and in place (``MarginScheduleHook``
       calls it every epoch).
    3. No cached functions of the margins (they would go stale on load),
       and no ``easy_margin`` (the margin rule is the subclass's).
    4. The family's :meth:`MarginHead.loss` (ArcFaceClsHead's, plus
       ``cal_acc``).

    Subclasses override :meth:`target_score` (``psi(cos theta_y)``, with
    ``self.margins[target]``) and set :attr:`max_margin`.

    Args:
        num_classes (int): Number of classes (>= 1).
        in_channels (int): Feature dimension (>= 1).
        num_subcenters (int): Sub-centres per class. Defaults to 1.
        scale (float): ``s`` > 0. Defaults to :data:`DEFAULT_SCALE` (30).
        margin (float | Sequence[float] | str): Initial margin(s) in
            ``[0, max_margin)``: one for every class, one per class, or a
            ``.txt`` file with one per line. Stored in the ``margins``
            buffer. Defaults to 0.5. ``margins`` is its deprecated name.
        loss (dict): Classification loss. Defaults to cross-entropy.
        topk (int | Tuple[int]): Top-k of ``cal_acc``. Defaults to
            ``(1, )``.
        cal_acc (bool): Report the training accuracy (see
            :meth:`MarginHead.loss`). Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    #: Margins must lie in ``[0, max_margin)``.
    max_margin: float = math.pi
    #: How messages write ``max_margin``.
    max_margin_text: str = 'pi'

    @renamed_arguments(margins='margin')
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_subcenters: int = 1,
                 scale: float = DEFAULT_SCALE,
                 margin: Union[MarginsType, str] = 0.5,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: TopkType = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        owner = type(self).__name__
        check_int('num_classes', num_classes, 1, owner)
        check_int('in_channels', in_channels, 1, owner)
        check_int('num_subcenters', num_subcenters, 1, owner)
        scale = check_scale(scale, owner)
        topk = check_topk(topk, owner)
        cal_acc = check_bool('cal_acc', cal_acc, owner)
        if not (isinstance(margin, str) and margin.endswith('.txt')):
            margin = self._margins_to_list(margin, num_classes)
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            num_subcenters=num_subcenters,
            scale=scale,
            margins=margin,
            loss=loss,
            init_cfg=init_cfg)
        # ArcFaceClsHead does not pass these on to ClsHead.
        self.topk = topk
        self.cal_acc = cal_acc
        # The parent caches sin(m) m and -cos(m) in non-persistent buffers
        # that would go stale when a checkpoint restores `margins`.
        drop_arcface_margin_cache(self)
        drop_arcface_easy_margin(self)
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

    def margin_cosines(self, pre_logits: torch.Tensor,
                       target: torch.Tensor) -> torch.Tensor:
        """The unscaled margin cosines (what ``ArcFaceClsHead`` asks for)."""
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
                f'{type(self).__name__}.{where}: `{_margin_arg(where)}` must '
                'lie in '
                f'[0, {self.max_margin_text}), got '
                f'{margins[bad].flatten()[:5].tolist()} '
                '(first offending values)')

    def _margins_to_list(self,
                         margins: MarginsType,
                         num_classes: int,
                         where: str = '__init__') -> List[float]:
        """A scalar or per-class margin spec as a checked list."""
        owner = f'{type(self).__name__}.{where}'
        name = _margin_arg(where)
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
                    f'{owner}: `{name}` must be a number, a sequence of '
                    f'numbers or a .txt file, got {margins!r}') from None
            if len(values) != num_classes:
                raise ValueError(
                    f'{owner}: `{name}` has {len(values)} values but '
                    f'num_classes={num_classes}')
        bad = [v for v in values if not (0.0 <= v < self.max_margin)]
        if bad:
            raise ValueError(
                f'{owner}: `{name}` must lie in [0, {self.max_margin_text}),'
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


def _margin_arg(where: str) -> str:
    """The argument a margin message names: ``margin`` of ``__init__``,
    ``margins`` of ``set_margins``."""
    return 'margin' if where == '__init__' else 'margins'

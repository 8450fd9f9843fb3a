"""The private / internal names of MMPretrain we use (checked on 1.2.0)."""
from typing import List, Optional

from torch import Tensor

from .guard import private

#: The MMPretrain releases these names were checked on.
CHECKED = '>=1.2.0,<=1.2.0'


@private('mmpretrain', 'mmpretrain.models.heads.ClsHead._get_predictions',
         CHECKED, 'scores -> DataSample predictions of a classification head')
def head_predictions(head, cls_score: Tensor,
                     data_samples: Optional[list]) -> List:
    """``ClsHead._get_predictions``: logits to predicted ``DataSample``s."""
    return head._get_predictions(cls_score, data_samples)


@private('mmpretrain', 'mmpretrain.models.heads.ArcFaceClsHead.sinm_m',
         CHECKED, 'ArcFaceClsHead caches functions of its margins in two '
         'non-persistent buffers (sinm_m, threshold) that go stale when a '
         'checkpoint restores the margins; our heads drop them')
def drop_arcface_margin_cache(head) -> None:
    """Delete ``ArcFaceClsHead``'s cached ``sinm_m`` and ``threshold``."""
    del head.sinm_m, head.threshold


@private('mmpretrain', 'mmpretrain.models.heads.ArcFaceClsHead.easy_margin',
         CHECKED, 'ArcFaceClsHead stores easy_margin for its own '
         '_get_logit_with_margin, which our heads override (their margin '
         'rule is AngularMarginHead.overflow); our heads drop the attribute '
         'so that it cannot disagree with the rule they use')
def drop_arcface_easy_margin(head) -> None:
    """Delete ``ArcFaceClsHead``'s ``easy_margin`` (none of ours reads it)."""
    del head.easy_margin

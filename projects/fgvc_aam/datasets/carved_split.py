"""A validation split carved deterministically from a training split."""
import hashlib
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Union

from mmpretrain.registry import DATASETS

from ..utils.checks import check_choice, check_float, check_int

PARTS = ('train', 'val')


@DATASETS.register_module()
class CarvedSplit:
    """The ``'train'`` or ``'val'`` part of a training split, stratified.

    For model selection on data sets without a validation split (CUB, the
    synthetic set): in every class ``c`` with ``n_c`` images, the
    ``round(fraction * n_c)`` images (at least 1 when ``n_c >= 2``) with the
    smallest ``sha1(f'{seed}/{class folder}/{file name}')`` form the
    ``'val'`` part, the others the ``'train'`` part. The choice depends only
    on the file names, labels, ``fraction`` and ``seed``, not on the order
    of the annotation files or on the machine, and the two parts are
    disjoint and cover the split. The test split is never touched.

    Args:
        dataset: the training split (a dataset or its config).
        part: ``'train'`` (the rest) or ``'val'`` (the carved images).
        fraction: share of every class that goes to ``'val'``, in (0, 1).
        seed: changes the carved images.
    """

    def __init__(self, dataset: Union[dict, object], part: str = 'val',
                 fraction: float = 0.2, seed: int = 0) -> None:
        owner = 'CarvedSplit'
        check_choice('part', part, PARTS, owner)
        # in (0, 1)
        check_float('fraction', fraction, 0.0, 1.0, strict_min=True,
                    strict_max=True, owner=owner)
        check_int('seed', seed, owner=owner)
        self.dataset = (DATASETS.build(dataset) if isinstance(dataset, dict)
                        else dataset)
        self.part, self.fraction, self.seed = part, fraction, seed
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        val = set(carve_indices(self._keys(), fraction, seed))
        self.indices: List[int] = [
            i for i in range(len(self.dataset))
            if (i in val) == (part == 'val')
        ]

    def _keys(self) -> List[tuple]:
        keys = []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            path = str(info.get('img_path', i))
            name = '/'.join(
                [osp.basename(osp.dirname(path)), osp.basename(path)])
            keys.append((int(info['gt_label']), name))
        return keys

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        """Already done in ``__init__`` (the runner may call it)."""

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        return self.dataset[self.indices[idx]]

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self.indices[idx])

    def get_cat_ids(self, idx: int) -> List[int]:
        return self.dataset.get_cat_ids(self.indices[idx])

    def __repr__(self) -> str:
        return (f'CarvedSplit(part={self.part!r}, fraction={self.fraction}, '
                f'seed={self.seed}, {len(self)} of {len(self.dataset)} '
                f'images of {type(self.dataset).__name__})')


def carve_indices(keys: List[tuple], fraction: float, seed: int) -> List[int]:
    """Indices of the carved (validation) items of ``(label, name)`` keys."""
    by_class: Dict[int, List[int]] = defaultdict(list)
    for i, (label, _) in enumerate(keys):
        by_class[label].append(i)

    def rank(i: int) -> str:
        return hashlib.sha1(f'{seed}/{keys[i][1]}'.encode()).hexdigest()

    out = []
    for label, idx in by_class.items():
        n = len(idx)
        k = min(n - 1, max(1, int(round(fraction * n)))) if n >= 2 else 0
        out += sorted(idx, key=rank)[:k]
    return sorted(out)

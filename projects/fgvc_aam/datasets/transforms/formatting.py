"""Packing of the ground-truth box into the DataSample."""
from typing import Sequence

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS

from ...utils.checks import check_str

__all__ = ['PackInputsWithBoxes']


@TRANSFORMS.register_module()
class PackInputsWithBoxes(PackInputs):
    """MMPretrain ``PackInputs`` that stores boxes as float32 tensors.

    ``PackInputs(algorithm_keys=['gt_bboxes'])`` copies the numpy array
    as-is into the DataSample, so ``data_preprocessor`` would not move it
    to the device. This subclass converts each key of ``box_keys`` present
    in the results to a ``torch.float32`` tensor of shape (N, 4) and sets
    it as a data field of the DataSample. Absent keys (Stanford Cars,
    FGVC-Aircraft: no boxes) are skipped, as in ``PackInputs``.

    Args:
        box_keys: result keys holding boxes. Defaults to ``('gt_bboxes',)``.
        **kwargs: ``input_key``, ``algorithm_keys``, ``meta_keys`` of
            ``PackInputs``.
    """

    def __init__(self, box_keys: Sequence[str] = ('gt_bboxes', ), **kwargs):
        if isinstance(box_keys, str):
            box_keys = (box_keys, )
        if not isinstance(box_keys, (tuple, list)):
            raise TypeError('PackInputsWithBoxes: `box_keys` must be a key '
                            f'or a list of non-empty keys, got {box_keys!r}')
        for key in box_keys:
            check_str('box_keys', key, 'PackInputsWithBoxes')
        self.box_keys = tuple(box_keys)
        algorithm_keys = tuple(kwargs.pop('algorithm_keys', ()))
        algorithm_keys += tuple(k for k in self.box_keys
                                if k not in algorithm_keys)
        super().__init__(algorithm_keys=algorithm_keys, **kwargs)

    def transform(self, results: dict) -> dict:
        results = dict(results)
        for key in self.box_keys:
            if results.get(key, None) is not None:
                boxes = results[key]
                if not isinstance(boxes, torch.Tensor):
                    boxes = torch.from_numpy(
                        np.ascontiguousarray(boxes, dtype=np.float32))
                results[key] = boxes.to(torch.float32).reshape(-1, 4)
            elif key in results:
                del results[key]
        return super().transform(results)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', box_keys={self.box_keys})'

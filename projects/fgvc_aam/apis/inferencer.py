"""MMPretrain's image-classification inferencer, plus the object box in the
user's image pixels.

:class:`FGVCInferencer` builds the model exactly as MMPretrain's
``get_model`` / ``init_model`` does (``cfg.model`` with the config's
top-level ``data_preprocessor``, checkpoint through mmengine) and runs the
config's test pipeline inside :class:`RecordInputGeometry`, so the
predicted box of a localizing model (``pred_bboxes``, network-input pixels)
is mapped back through the resize and crop::

    x_ori = (x_in + o_x) / s_x,   y_ori = (y_in + o_y) / s_y

>>> from projects.fgvc_aam.apis import FGVCInferencer
>>> inferencer = FGVCInferencer(CONFIG, pretrained=CHECKPOINT)
>>> inferencer('bird.jpg')[0]
{'pred_label': 3, 'pred_score': 0.91, 'pred_class': '004.Groove_billed_Ani',
 'pred_bbox': [41.0, 60.5, 380.2, 290.7], 'pred_scores': array([...])}

With ``return_datasamples=True`` each ``DataSample`` carries
``pred_bboxes`` (input pixels) and ``pred_bboxes_ori`` (original pixels),
both (1, 4) tensors. ``show_dir`` draws the box and the class on the image.
"""
import os.path as osp
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmcv.image import imread
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.apis import ImageClassificationInferencer
from mmpretrain.structures import DataSample

from ..datasets.transforms.geometry import (RecordInputGeometry,
                                            boxes_to_original)
from .model import init_fitting_model

__all__ = ['FGVCInferencer', 'draw_prediction']


def draw_prediction(image: np.ndarray,
                    label: str,
                    box: Optional[Sequence[float]] = None,
                    gt_label: Optional[str] = None,
                    gt_box: Optional[Sequence[float]] = None) -> np.ndarray:
    """A copy of the BGR ``image`` with the predicted box (red) and label,
    and the ground-truth box (green) and label where given."""
    out = np.ascontiguousarray(image.copy())
    thick = max(1, round(max(out.shape[:2]) / 200))
    font = max(0.4, max(out.shape[:2]) / 600)

    def put(text, x, y, color):
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                         font, thick)
        y = max(th + base, y)
        cv2.rectangle(out, (x, y - th - base), (x + tw, y), color, -1)
        cv2.putText(out, text, (x, y - base), cv2.FONT_HERSHEY_SIMPLEX, font,
                    (255, 255, 255), thick, cv2.LINE_AA)

    for bx, text, color, at_bottom in ((gt_box, gt_label, (0, 160, 0), True),
                                       (box, label, (0, 0, 255), False)):
        if bx is not None:
            x1, y1, x2, y2 = (int(round(float(v))) for v in bx)
            cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
        if text:
            y = out.shape[0] - 2 if at_bottom else 0
            put(text, 0, y, color)
    return out


class FGVCInferencer(ImageClassificationInferencer):
    """``ImageClassificationInferencer`` whose results also hold the
    predicted object box in original-image pixels (``pred_bbox``,
    ``[x1, y1, x2, y2]``) for models that predict ``pred_bboxes`` (the
    two-branch classifier); same arguments. A config (or config path) and
    a checkpoint are loaded by :func:`init_fitting_model`: a checkpoint
    that does not fit the model is refused, not loaded non-strictly."""

    def __init__(self, model, pretrained: Union[bool, str] = True,
                 device: Optional[str] = None, **kwargs) -> None:
        is_config = isinstance(model, Config) or (
            isinstance(model, (str, Path)) and Path(model).suffix == '.py')
        if is_config:
            model = init_fitting_model(
                model, pretrained if isinstance(pretrained, str) else None,
                device)
            pretrained = False
        super().__init__(model, pretrained=pretrained, device=device,
                         **kwargs)

    def _init_pipeline(self, cfg: Config) -> Callable:
        pipeline = super()._init_pipeline(cfg)
        return Compose([RecordInputGeometry(pipeline.transforms)])

    @staticmethod
    def _add_original_boxes(preds: List[DataSample]) -> None:
        for sample in preds:
            if 'pred_bboxes' in sample:
                sample.set_field(
                    torch.as_tensor(
                        boxes_to_original(sample.pred_bboxes,
                                          sample.metainfo),
                        dtype=torch.float32), 'pred_bboxes_ori')

    def visualize(self,
                  ori_inputs: List,
                  preds: List[DataSample],
                  show: bool = False,
                  show_dir: Optional[str] = None,
                  **kwargs) -> Optional[List[np.ndarray]]:
        """Draw box and class on each image; save to ``show_dir``."""
        if not show and show_dir is None:
            return None
        self._add_original_boxes(preds)
        drawn = []
        for i, (input_, sample) in enumerate(zip(ori_inputs, preds)):
            image = imread(input_)  # BGR, as the pipeline saw it
            label = int(sample.pred_label)
            name = self.classes[label] if self.classes else str(label)
            box = sample.get('pred_bboxes_ori', None)
            out = draw_prediction(
                image, f'{name} {float(sample.pred_score.max()):.2f}',
                None if box is None else box[0].tolist())
            if show_dir is not None:
                Path(show_dir).mkdir(parents=True, exist_ok=True)
                stem = Path(input_).stem if isinstance(input_, str) else i
                cv2.imwrite(osp.join(show_dir, f'{stem}.png'), out)
            drawn.append(out[..., ::-1])
        return drawn

    def postprocess(self,
                    preds: List[DataSample],
                    visualization: List[np.ndarray],
                    return_datasamples: bool = False):
        self._add_original_boxes(preds)
        results = super().postprocess(preds, visualization,
                                      return_datasamples)
        if return_datasamples:
            return results
        for result, sample in zip(results, preds):
            if 'pred_bboxes_ori' in sample:
                result['pred_bbox'] = [
                    float(v) for v in sample.pred_bboxes_ori[0]
                ]
        return results

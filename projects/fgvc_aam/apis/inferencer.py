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
import copy
import os.path as osp
from pathlib import Path
from typing import Callable, List, Optional, Union

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
from .drawing import draw_prediction
from .model import init_fitting_model

__all__ = ['FGVCInferencer', 'read_image', 'write_new_image']


def read_image(image: Union[str, np.ndarray]) -> np.ndarray:
    """A BGR image in its STORED pixel orientation (a JPEG's EXIF
    orientation is not applied), as ``CUBWithBoxes`` and ``tools/test.py``
    read images; an array is returned as it is."""
    if isinstance(image, np.ndarray):
        return image
    path = str(image)
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path!r} does not exist')
    img = imread(path, flag='color_ignore_orientation')
    if img is None:
        raise ValueError(f'image {path!r} cannot be read as an image')
    return img


def write_new_image(folder: str, stem: str, image: np.ndarray,
                    taken: set) -> str:
    """Write ``image`` (BGR) as ``folder/stem.png``, or ``stem_1.png``,
    ``stem_2.png``, ... if that name exists or is in ``taken``: never over
    an existing file (or through a link), exclusive create. Returns the
    path, added to ``taken``."""
    ok, data = cv2.imencode('.png', image)
    if not ok:
        raise ValueError(f'cannot encode the drawing of {stem!r} as PNG')
    Path(folder).mkdir(parents=True, exist_ok=True)
    for k in range(10000):
        name = osp.join(folder, f'{stem}.png' if k == 0 else f'{stem}_{k}.png')
        if name in taken or osp.lexists(name):
            continue
        try:
            with open(name, 'xb') as f:
                f.write(data.tobytes())
        except FileExistsError:  # created meanwhile by someone else
            continue
        taken.add(name)
        return name
    raise FileExistsError(f'{folder}: no free name for {stem!r}')


class FGVCInferencer(ImageClassificationInferencer):
    """``ImageClassificationInferencer`` whose results also hold the
    predicted object box in original-image pixels (``pred_bbox``,
    ``[x1, y1, x2, y2]``) for models that predict ``pred_bboxes`` (the
    two-branch classifier); same arguments. ``model`` is a config (path
    or ``Config``) or a model name of our ``model-index.yml`` (MMPretrain's
    ``ModelHub``); its checkpoint ``pretrained`` is loaded by
    :func:`init_fitting_model`: a checkpoint that does not fit the model is
    refused, not loaded non-strictly. Images are read in their stored
    pixel orientation (EXIF orientation not applied), as ``tools/test.py``
    reads them. ``show_dir`` never overwrites a file: a taken name gets a
    ``_1``, ``_2``, ... suffix (``out_file`` in each result)."""

    def __init__(self, model, pretrained: Union[bool, str] = True,
                 device: Optional[str] = None, **kwargs) -> None:
        if isinstance(model, str) and Path(model).suffix != '.py':
            from mmpretrain.apis.model import ModelHub
            model = copy.deepcopy(ModelHub.get(model).config)
        is_config = isinstance(model, Config) or (
            isinstance(model, (str, Path)) and Path(model).suffix == '.py')
        if is_config:
            model = init_fitting_model(
                model, pretrained if isinstance(pretrained, str) else None,
                device)
            pretrained = False
        super().__init__(model, pretrained=pretrained, device=device,
                         **kwargs)
        self.pipeline = self.record_geometry(self.pipeline)

    @staticmethod
    def record_geometry(pipeline: Compose) -> Callable:
        """Upstream's test pipeline inside :class:`RecordInputGeometry`."""
        return Compose([RecordInputGeometry(pipeline.transforms)])

    def preprocess(self, inputs: List, batch_size: int = 1):
        """Upstream's, on images read by :func:`read_image`."""
        return super().preprocess(map(read_image, inputs), batch_size)

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
        drawn, taken = [], set()
        for i, (input_, sample) in enumerate(zip(ori_inputs, preds)):
            image = read_image(input_)  # BGR, as the pipeline saw it
            label = int(sample.pred_label)
            name = self.classes[label] if self.classes else str(label)
            box = sample.get('pred_bboxes_ori', None)
            out = draw_prediction(
                image, f'{name} {float(sample.pred_score.max()):.2f}',
                None if box is None else box[0].tolist())
            if show_dir is not None:
                stem = Path(input_).stem if isinstance(
                    input_, (str, Path)) else f'{i:08d}'
                sample.set_metainfo(
                    dict(out_file=write_new_image(show_dir, stem, out,
                                                  taken)))
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
            if 'out_file' in sample.metainfo:
                result['out_file'] = sample.out_file
        return results

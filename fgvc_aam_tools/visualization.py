"""Shared by the visualization tools (``tools/visualization/vis_*.py``):
build a model from a config and load a few images through the config's
test pipeline."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def load_model(config: str,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None
               ) -> Tuple[Config, torch.nn.Module]:
    """The config and its model in eval mode, loaded as MMPretrain's
    ``tools/visualization/vis_cam.py`` loads them (``Config.fromfile``,
    ``--cfg-options``, ``get_model``), except that the checkpoint is loaded
    only if it fits (``init_fitting_model`` = ``get_model`` + that check;
    random init without one; no pretrained weights are fetched)."""
    from projects.fgvc_aam.apis import \
        init_fitting_model  # registers everything

    from projects.fgvc_aam_hardening.runtime_fixes import \
        allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # also read what plain mmengine wrote
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    # refused if the checkpoint's tensors do not fit the model
    model = init_fitting_model(cfg, checkpoint, device)
    return cfg, model


def class_names(model: torch.nn.Module,
                dataset_meta: Optional[dict] = None) -> Optional[List[str]]:
    """Class names from the checkpoint's ``dataset_meta``, else the data."""
    from projects.fgvc_aam.compat.mmpretrain import model_dataset_meta
    classes = (model_dataset_meta(model) or {}).get('classes')
    if not classes and dataset_meta:
        classes = dataset_meta.get('classes')
    return list(classes) if classes else None


@torch.no_grad()
def predict(model: torch.nn.Module, items: Sequence[dict]) -> list:
    """Predicted data samples (``pred_label``, ``pred_score`` and, for a
    two-branch model, ``pred_bboxes``) of ``items``: ``model.test_step``,
    what mmengine's test loop calls."""
    return model.test_step(pseudo_collate(list(items)))


def _test_pipeline(cfg: Config) -> list:
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if loader is None:
        raise ValueError('the config has no test_dataloader/val_dataloader '
                         'to take the test pipeline from')
    return list(loader.dataset.pipeline)


def load_items(cfg: Config,
               img_dir: Optional[str] = None,
               split: str = 'test',
               num: int = 16) -> Tuple[List[dict], dict]:
    """Up to ``num`` packed samples (``inputs``, ``data_samples``) from an
    image folder or from a dataset split, all through the test pipeline
    (so ground-truth boxes, if packed, are in network-input pixels), and
    the data set's metainfo (``{}`` for a folder)."""
    from mmpretrain.registry import DATASETS
    pipeline = _test_pipeline(cfg)
    if img_dir is not None:
        files = sorted(
            osp.join(root, f) for root, _, names in os.walk(img_dir)
            for f in names if f.lower().endswith(IMG_EXTS))
        if not files:
            raise FileNotFoundError(f'no images under {img_dir}')
        compose = Compose(pipeline)
        return [compose(dict(img_path=f)) for f in files[:num]], {}
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise ValueError(f'the config has no {split}_dataloader')
    dataset_cfg = loader.dataset.copy()
    dataset_cfg['pipeline'] = pipeline
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise ValueError(f'the {split} split is empty')
    picks = np.linspace(0, len(dataset) - 1, min(num, len(dataset)))
    return [dataset[int(i)] for i in picks], dict(dataset.metainfo)


def batch_of(model: torch.nn.Module, items: Sequence[dict]):
    """Network inputs (normalised) and data samples of ``items``, plus the
    display images (RGB uint8, network-input geometry)."""
    data = model.data_preprocessor(pseudo_collate(list(items)), False)
    shown = []
    for item in items:
        img = item['inputs']
        img = img.permute(1, 2, 0).cpu().numpy() if isinstance(
            img, torch.Tensor) else np.asarray(img)
        if img.shape[-1] == 3:
            img = img[..., ::-1]  # mmcv loads BGR
        shown.append(np.ascontiguousarray(img).astype(np.uint8))
    return data['inputs'], data['data_samples'], shown


def grid_figure(num: int, cols: int, panels_per_item: int = 1,
                size: float = 3.0):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = max(1, min(cols, num)) * panels_per_item
    rows = int(np.ceil(num * panels_per_item / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis('off')
    return fig, axes.ravel()


def draw_box(ax, box, color: str, shape: Sequence[int]) -> None:
    """Draw ``box`` (``x1, y1, x2, y2``, image pixels) in the matplotlib
    colour ``color`` on the panel ``ax``, which shows an image of
    ``shape`` ``(H, W)`` at ``extent=(0, W, H, 0)``. The outline is drawn
    by the project's one box drawer, ``projects.fgvc_aam.apis.draw_box``,
    on a transparent RGBA layer over the panel (above heat maps and
    contours), ``max(1, round(max(H, W) / 100))`` image pixels wide."""
    from matplotlib.colors import to_rgba

    from projects.fgvc_aam.apis import draw_box as draw_on_image
    height, width = (int(s) for s in shape[:2])
    layer = np.zeros((height, width, 4), np.uint8)
    rgba = [int(round(255 * c)) for c in to_rgba(color)]
    draw_on_image(layer, box, rgba, max(1, round(max(height, width) / 100)))
    ax.imshow(layer, extent=(0, width, height, 0), interpolation='nearest',
              zorder=3)


def label_of(classes: Optional[Sequence[str]], label) -> str:
    """``'NAME'`` (or ``'class K'`` without names) of a label."""
    label = int(torch.as_tensor(label).reshape(-1)[0])
    if classes and 0 <= label < len(classes):
        return str(classes[label])
    return f'class {label}'


def title_of(pred, sample, classes: Optional[Sequence[str]] = None,
             width: int = 34) -> str:
    """Title lines: predicted class and score; ground-truth class (when
    the sample has one). Names are shown with spaces for underscores and
    wrapped at ``width`` characters."""
    import textwrap

    def wrap(text):
        return textwrap.wrap(text.replace('_', ' '), width) or ['']

    score = float(pred.pred_score.max())
    lines = wrap(f'pred: {label_of(classes, pred.pred_label)} {score:.2f}')
    if 'gt_label' in sample and len(sample.gt_label):
        lines += wrap(f'true: {label_of(classes, sample.gt_label)}')
    return '\n'.join(lines)

"""Shared by the visualization tools: build a model from a config and load
a few images through the config's test pipeline."""
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose, pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def load_model(config: str,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None
               ) -> Tuple[Config, torch.nn.Module]:
    """The config and its model in eval mode (random init without a
    checkpoint)."""
    import projects.fgvc_aam  # noqa: F401  (registers everything)
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    model_cfg.pop('init_cfg', None)  # no download of pretrained weights
    if 'backbone' in model_cfg:
        model_cfg['backbone'] = dict(model_cfg['backbone'])
        model_cfg['backbone'].pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    if checkpoint:  # refused if its tensors do not fit the model
        from projects.fgvc_aam.engine import load_fitting_checkpoint
        load_fitting_checkpoint(model, checkpoint, map_location='cpu',
                                allow_partial=bool(
                                    cfg.get('allow_partial_checkpoint')))
    model.to(device).eval()
    return cfg, model


def _test_pipeline(cfg: Config) -> list:
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if loader is None:
        raise ValueError('the config has no test_dataloader/val_dataloader '
                         'to take the test pipeline from')
    return list(loader.dataset.pipeline)


def load_items(cfg: Config,
               img_dir: Optional[str] = None,
               split: str = 'test',
               num: int = 16) -> List[dict]:
    """Up to ``num`` packed samples (``inputs``, ``data_samples``) from an
    image folder or from a dataset split, all through the test pipeline
    (so ground-truth boxes, if packed, are in network-input pixels)."""
    from mmpretrain.registry import DATASETS
    pipeline = _test_pipeline(cfg)
    if img_dir is not None:
        files = sorted(
            osp.join(root, f) for root, _, names in os.walk(img_dir)
            for f in names if f.lower().endswith(IMG_EXTS))
        if not files:
            raise FileNotFoundError(f'no images under {img_dir}')
        compose = Compose(pipeline)
        return [compose(dict(img_path=f)) for f in files[:num]]
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise ValueError(f'the config has no {split}_dataloader')
    dataset_cfg = loader.dataset.copy()
    dataset_cfg['pipeline'] = pipeline
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise ValueError(f'the {split} split is empty')
    picks = np.linspace(0, len(dataset) - 1, min(num, len(dataset)))
    return [dataset[int(i)] for i in picks]


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


def draw_box(ax, box, color: str, label: Optional[str] = None) -> None:
    import matplotlib.patches as patches
    x1, y1, x2, y2 = [float(v) for v in box]
    ax.add_patch(
        patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                          edgecolor=color, linewidth=2, label=label))

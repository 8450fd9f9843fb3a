"""The model of a config with a checkpoint that must fit it.

MMPretrain's ``get_model`` (what ``init_model`` and the inferencers call)
loads a checkpoint with ``strict=False``: tensors of another shape or name
only log a warning and stay randomly initialised. :func:`init_fitting_model`
builds the model the same way (``cfg.model`` with the config's top-level
``data_preprocessor``, no pretrained download) and loads the checkpoint
through :func:`~projects.fgvc_aam.engine.load_fitting_checkpoint`, which
refuses a checkpoint that does not fit unless the config sets
``allow_partial_checkpoint=True``.
"""
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config


def init_fitting_model(config: Union[str, Config],
                       checkpoint: Optional[str] = None,
                       device: Optional[str] = None) -> nn.Module:
    """``mmpretrain.apis.get_model(config)`` in eval mode, with
    ``checkpoint`` loaded only if it fits; ``dataset_meta`` is taken from
    the checkpoint as ``get_model`` does."""
    from mmpretrain.apis import get_model

    from ..compat.mmpretrain import set_model_dataset_meta
    from ..engine import load_fitting_checkpoint
    from ..engine.checkpoint_fit import PARTIAL_LOAD_OPTION
    from ..utils import parse_bool
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    # checked before the model is built: 'no' must not mean yes
    allow_partial = parse_bool(PARTIAL_LOAD_OPTION,
                               cfg.get(PARTIAL_LOAD_OPTION, False))
    model = get_model(cfg, pretrained=False, device=device)
    if checkpoint:
        ckpt = load_fitting_checkpoint(
            model, checkpoint, map_location='cpu',
            allow_partial=allow_partial)
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if meta.get('dataset_meta'):
            set_model_dataset_meta(model, meta['dataset_meta'])
    return model.eval()

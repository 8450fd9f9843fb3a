"""Our model zoo in MMPretrain's ``list_models`` / ``get_model``.

MMPretrain's ``ModelHub`` knows the models of its own ``model-index.yml``
only; :func:`register_model_index` adds ours (``model-index.yml`` at the
repository root, config paths relative to it), so that after
``import projects.fgvc_aam``::

    >>> from mmpretrain import get_model, list_models
    >>> list_models('*two-branch*')
    ['two-branch-aam-step_resnet101_2xb8-100e_cub', ...]
    >>> model = get_model('two-branch-aam-step_resnet50_2xb8-100e_cub')

No pretrained weights are listed (``get_model(name, pretrained=True)``
warns and builds the model untrained; pass ``pretrained=PATH``).
"""
import os.path as osp
from typing import Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
MODEL_INDEX = osp.join(ROOT, 'model-index.yml')


_REGISTERED = set()


def register_model_index(path: Optional[str] = None) -> bool:
    """Register ``path`` (default: the repository's ``model-index.yml``)
    with MMPretrain's ``ModelHub``; idempotent. False where the file is
    absent (an installed wheel without the configs)."""
    path = osp.abspath(path or MODEL_INDEX)
    if not osp.isfile(path):
        return False
    if path not in _REGISTERED:
        from mmpretrain.apis.model import ModelHub
        ModelHub.register_model_index(path, config_prefix=osp.dirname(path))
        _REGISTERED.add(path)
    return True

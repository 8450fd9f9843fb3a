"""Our model zoo in MMPretrain's ``list_models`` / ``get_model``.

MMPretrain's ``ModelHub`` knows the models of its own ``model-index.yml``
only; :func:`register_model_index` adds ours (``model-index.yml`` at the
repository root, config paths relative to it), so that after
``import projects.fgvc_aam``::

    >>> from mmpretrain import get_model, list_models
    >>> list_models('*two-branch*')
    ['two-branch-aam-step_resnet101_2xb8-100e_cub', ...]
    >>> model = get_model('two-branch-aam-step_resnet50_2xb8-100e_cub')

MMPretrain's ``inference_model(NAME, ...)`` picks its inferencer from the
``Task`` of a model's ``Results``; a model without published results
(``Results: null``) is given the task ``Image Classification`` with no
metrics, so ``inference_model`` runs MMPretrain's
``ImageClassificationInferencer`` on every model of ours.

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
        before = set(ModelHub._models_dict)
        ModelHub.register_model_index(path, config_prefix=osp.dirname(path))
        _declare_classification_task(
            ModelHub._models_dict[name]
            for name in set(ModelHub._models_dict) - before)
        _REGISTERED.add(path)
    return True


def _declare_classification_task(models) -> None:
    """``Results: [{Task: Image Classification, Dataset: <training data>,
    Metrics: {}}]`` for each model index entry without results."""
    from modelindex.models.Result import Result
    for meta in models:
        if not meta.results:
            data = (meta.metadata.training_data
                    if meta.metadata is not None else None)
            meta.results = [
                Result(task='Image Classification', dataset=data or '',
                       metrics={})
            ]

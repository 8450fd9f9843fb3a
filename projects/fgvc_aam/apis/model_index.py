"""Our model zoo in MMPretrain's ``list_models`` / ``get_model``.

MMPretrain's ``ModelHub`` knows the models of its own ``model-index.yml``
only; :func:`register_model_index` adds ours, so that after
``import projects.fgvc_aam``::

    >>> from mmpretrain import get_model, list_models
    >>> list_models('*two-branch*')
    ['two-branch-aam-step_resnet101_2xb8-100e_cub', ...]
    >>> model = get_model('two-branch-aam-step_resnet50_2xb8-100e_cub')

The index is ``model-index.yml`` at the repository root (a checkout or an
editable install) or, in an installed wheel, the copy under
``projects/fgvc_aam/.mim/`` (with the configs, as MMPretrain ships its own
under ``mmpretrain/.mim``); config paths are relative to it.

No weights are published yet. So that ``get_model(name, pretrained=True)``
fails instead of warning and returning an untrained model, each of our
models without ``Weights`` gets the address ``fgvc-aam-unpublished://NAME``
in the hub, and loading it raises :class:`NoPublishedWeightsError` saying
what to pass instead (a checkpoint path, or ``pretrained=False``).

MMPretrain's ``inference_model(NAME, ...)`` picks its inferencer from the
``Task`` of a model's ``Results``; a model without published results
(``Results: null``) is given the task ``Image Classification`` with no
metrics, so ``inference_model`` runs MMPretrain's
``ImageClassificationInferencer`` on every model of ours.
"""
import os.path as osp
from typing import Dict, Optional

PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROOT = osp.dirname(osp.dirname(PACKAGE))
# a checkout / editable install first, then the copy a wheel installs
MODEL_INDEXES = (osp.join(ROOT, 'model-index.yml'),
                 osp.join(PACKAGE, '.mim', 'model-index.yml'))
MODEL_INDEX = MODEL_INDEXES[0]
UNPUBLISHED = 'fgvc-aam-unpublished://'

_REGISTERED = set()
_CONFIGS: Dict[str, str] = {}  # our model names -> config paths


class NoPublishedWeightsError(FileNotFoundError):
    """``get_model(name, pretrained=True)`` for a model without weights."""


def load_from_unpublished(filename: str, map_location=None):
    name = filename[len(UNPUBLISHED):]
    config = _CONFIGS.get(name, 'its config')
    raise NoPublishedWeightsError(
        f'get_model({name!r}, pretrained=True): fgvc_aam publishes no '
        f'weights for {name} (its model-index.yml entry has no Weights). '
        f'Train it (python tools/train.py {config}) and pass the '
        f'checkpoint, get_model({name!r}, pretrained=\'work_dirs/.../'
        "epoch_N.pth'), or pass pretrained=False for an untrained model.")


def register_model_index(path: Optional[str] = None) -> bool:
    """Register ``path`` (default: the first of :data:`MODEL_INDEXES`
    that exists) with MMPretrain's ``ModelHub``; idempotent. False where
    there is none."""
    if path is None:
        path = next((p for p in MODEL_INDEXES if osp.isfile(p)), None)
        if path is None:
            return False
    path = osp.abspath(path)
    if not osp.isfile(path):
        return False
    if path not in _REGISTERED:
        from mmengine.runner import CheckpointLoader
        from mmpretrain.apis.model import ModelHub

        from ..compat.mmpretrain import registered_models
        models = registered_models()
        before = set(models)
        ModelHub.register_model_index(path, config_prefix=osp.dirname(path))
        added = set(models) - before
        _declare_classification_task(models[name] for name in added)
        for name in added:
            info = models[name]
            _CONFIGS[name] = osp.relpath(info.config, osp.dirname(path))
            if info.weights is None:
                info.weights = UNPUBLISHED + name
        CheckpointLoader.register_scheme(
            prefixes=UNPUBLISHED, loader=load_from_unpublished, force=True)
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

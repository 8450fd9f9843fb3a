"""The private / internal names of MMPretrain we use.

Checked on every 1.x release (1.0.0 to 1.2.0): the wrapped code, and every
function of MMPretrain that mentions the name, is the same in each
(``tools/misc/compare_private_names.py`` compares them), except for the
tools' ``merge_args`` in 1.0.x (:data:`TOOLS_CHECKED`).
"""
from types import ModuleType
from typing import Any, Dict, List, Optional

from torch import Tensor, nn

from mmpretrain.models.heads import ArcFaceClsHead

from .guard import declare, private, private_class, uses

#: The MMPretrain releases these names were checked on.
CHECKED = '>=1.0.0,<=1.2.0'
#: The releases whose ``.mim/tools`` we reuse as they are: 1.0.x's
#: ``train.py`` ``merge_args`` differs (``--amp`` refuses optimizer
#: wrappers other than ``OptimWrapper`` / ``AmpOptimWrapper``).
TOOLS_CHECKED = '>=1.1.0,<=1.2.0'


@private('mmpretrain', 'mmpretrain.models.heads.ClsHead._get_predictions',
         CHECKED, 'scores -> DataSample predictions of a classification head')
def head_predictions(head, cls_score: Tensor,
                     data_samples: Optional[list]) -> List:
    """``ClsHead._get_predictions``: logits to predicted ``DataSample``s."""
    return head._get_predictions(cls_score, data_samples)


@private('mmpretrain', 'mmpretrain.models.heads.ArcFaceClsHead.sinm_m',
         CHECKED, 'ArcFaceClsHead caches functions of its margins in two '
         'non-persistent buffers (sinm_m, threshold) that go stale when a '
         'checkpoint restores the margins; our heads drop them')
def drop_arcface_margin_cache(head) -> None:
    """Delete ``ArcFaceClsHead``'s cached ``sinm_m`` and ``threshold``."""
    del head.sinm_m, head.threshold


# ------------------------------------------------------------ model hub


@private('mmpretrain', 'mmpretrain.apis.model.ModelHub._models_dict',
         CHECKED, "the registered model-index entries: ModelHub has no "
         'public way to list what register_model_index added, nor to '
         'change an entry (our unpublished weights, the task of each '
         'entry)')
def registered_models() -> Dict[str, Any]:
    """``ModelHub``'s registry ``{lower-case name: modelindex Model}``, the
    dict itself (changing an entry changes what ``get_model`` gets)."""
    from mmpretrain.apis.model import ModelHub
    return ModelHub._models_dict


# --------------------------------------------- what get_model attaches


@private('mmpretrain', 'mmpretrain.apis.model.get_model -> model._config',
         CHECKED, 'get_model keeps the config it built the model from on '
         'the model; the ONNX export reads its test pipeline')
def model_config(model: nn.Module):
    """The ``Config`` ``get_model`` built ``model`` from."""
    return model._config


_DATASET_META = declare(
    'mmpretrain', 'mmpretrain.apis.model.get_model -> model._dataset_meta',
    CHECKED, "get_model keeps the checkpoint's dataset_meta (class names) "
    'on the model, where the inferencers read it; we set it as get_model '
    'does and read the class names', 'reading gives None (class names '
    'then come from the data set); setting raises')


@uses(_DATASET_META, fallback=lambda model: None)
def model_dataset_meta(model: nn.Module) -> Optional[dict]:
    """The checkpoint's ``dataset_meta`` that ``get_model`` (or
    :func:`set_model_dataset_meta`) attached to ``model``, or None."""
    return getattr(model, '_dataset_meta', None)


@uses(_DATASET_META)
def set_model_dataset_meta(model: nn.Module, meta: dict) -> None:
    """Attach a checkpoint's ``dataset_meta`` to ``model`` as
    ``get_model`` does (``ImageClassificationInferencer`` reads its
    ``classes``)."""
    model._dataset_meta = meta


def _has_mean_and_std(preprocessor: nn.Module) -> bool:
    return all(
        isinstance(getattr(preprocessor, name, None), Tensor)
        for name in ('mean', 'std'))


@private(
    'mmpretrain', 'mmpretrain.models.utils.data_preprocessor.'
    'ClsDataPreprocessor._enable_normalize', CHECKED,
    'whether the data preprocessor normalises (the ONNX export bakes its '
    'mean / std in only then)', fallback=_has_mean_and_std,
    fallback_text='whether it has mean and std buffers (registered '
    'exactly when it normalises, in 1.0 to 1.2)')
def normalizes(preprocessor: nn.Module) -> bool:
    """Whether ``preprocessor`` subtracts ``mean`` and divides by ``std``."""
    return bool(preprocessor._enable_normalize)


# ------------------------------------------------------------ the tools


@private(
    'mmpretrain', 'mmpretrain/.mim/tools', TOOLS_CHECKED, 'the tools '
    "shipped in the package: we reuse train.py's and test.py's parse_args and "
    'merge_args (same flags as MMPretrain), vis_scheduler.py whole')
def load_tool(name: str) -> ModuleType:
    """A private copy of ``mmpretrain/.mim/tools/{name}.py`` (e.g.
    ``'train'``, ``'visualization/vis_scheduler'``) as a module."""
    import importlib.util
    import os.path as osp

    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain tool {path!r} not found: fgvc_aam reuses the tools '
            'shipped in the mmpretrain package (install mmpretrain 1.2.x '
            'from a wheel or with `pip install -e` of its repository).')
    spec = importlib.util.spec_from_file_location(
        f'mmpretrain_tools_{name.replace("/", "_")}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@private(
    'mmpretrain',
    'mmpretrain/.mim/tools/visualization/vis_scheduler.py:SimpleModel',
    CHECKED, 'the model its simulate_train trains; our configs need one '
    'with a backbone and a head (GroupMultiStepLR, MarginScheduleHook)')
def vis_scheduler_tool(model_class: type) -> ModuleType:
    """A private copy of MMPretrain's ``vis_scheduler.py`` whose
    ``simulate_train`` builds ``model_class()`` in place of its
    ``SimpleModel`` (a global of that copy only)."""
    tool = load_tool('visualization/vis_scheduler')
    tool.SimpleModel = model_class
    return tool


@private('mmpretrain', 'mmpretrain.models.heads.ArcFaceClsHead.easy_margin',
         CHECKED, 'ArcFaceClsHead stores easy_margin for its own '
         '_get_logit_with_margin, which our heads override (their margin '
         'rule is AngularMarginHead.overflow); our heads drop the attribute '
         'so that it cannot disagree with the rule they use')
def drop_arcface_easy_margin(head) -> None:
    """Delete ``ArcFaceClsHead``'s ``easy_margin`` (none of ours reads it)."""
    del head.easy_margin


@private_class()
class ArcFaceMarginCosines(ArcFaceClsHead):
    """MMPretrain's ``ArcFaceClsHead`` whose margin cosines come from the
    public :meth:`margin_cosines`.

    Upstream's ``forward(feats, target)`` gets the unscaled training
    cosines (the margin at the target) from its private
    ``_get_logit_with_margin(pre_logits, target)``. This class overrides
    that method (and nothing else) to call :meth:`margin_cosines`, so that
    upstream code reaching it sees the subclass's own margin rule.
    """

    def margin_cosines(self, pre_logits: Tensor, target: Tensor) -> Tensor:
        """The unscaled cosines, the margin applied at ``target``."""
        raise NotImplementedError

    @private('mmpretrain',
             'mmpretrain.models.heads.ArcFaceClsHead._get_logit_with_margin',
             CHECKED, "ArcFaceClsHead.forward's training cosines; our "
             'cosine heads override it with their own margin rule')
    def _get_logit_with_margin(self, pre_logits: Tensor,
                               target: Tensor) -> Tensor:
        return self.margin_cosines(pre_logits, target)

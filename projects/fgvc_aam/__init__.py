"""fgvc_aam: fine-grained visual classification components for MMPretrain.

Importing this package registers every component (datasets, transforms,
models, hooks, parameter schedulers, metrics) in MMPretrain's registries and
our ``model-index.yml`` in MMPretrain's model hub; nothing else. The fixes
our tools apply to mmengine / torch at run time live outside it, in
:mod:`projects.fgvc_aam_hardening.runtime_fixes`, and are switched on
by the tools.
"""
from . import datasets  # noqa: F401
from . import engine  # noqa: F401
from . import evaluation  # noqa: F401
from . import models  # noqa: F401
from .apis.model_index import register_model_index

__version__ = '0.1.0'

# our model-index.yml in MMPretrain's list_models / get_model
register_model_index()

__all__ = ['register_model_index', '__version__']

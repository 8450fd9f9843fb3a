"""fgvc_aam: fine-grained visual classification components for MMPretrain.

Importing this package registers every component (datasets, transforms,
models, hooks, parameter schedulers, metrics) in MMPretrain's registries and
makes checkpoints written by our own training loadable with torch >= 2.6.
"""
from .engine.checkpoint_compat import allow_mmengine_checkpoints

from . import datasets  # noqa: F401,E402
from . import engine  # noqa: F401,E402
from . import evaluation  # noqa: F401,E402
from . import models  # noqa: F401,E402

__version__ = '0.1.0'

allow_mmengine_checkpoints()

# our model-index.yml in MMPretrain's list_models / get_model
from .apis.model_index import register_model_index  # noqa: E402

register_model_index()

__all__ = [
    'allow_mmengine_checkpoints', 'register_model_index', '__version__'
]

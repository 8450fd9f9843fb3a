from . import (backbones, classifiers, heads, localizers, losses,  # noqa: F401
               necks)

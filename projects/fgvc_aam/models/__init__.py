from . import classifiers, heads, localizers, losses, necks  # noqa: F401

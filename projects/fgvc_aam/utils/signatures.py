"""What a registered class's ``__init__`` accepts, read from its signature.

Used by the checks that refuse unknown config keys and name the allowed
ones (``custom_keys`` entries, hook arguments).
"""
import inspect
from typing import List, Optional, Tuple


def registered_class(registry, type_) -> Optional[type]:
    """The class a config's ``type`` names, or None if it cannot be told
    (unknown scope or name: the build will say so)."""
    if not isinstance(type_, str):
        return type_ if inspect.isclass(type_) else None
    try:
        return registry.get(type_)
    except Exception:
        return None


def init_arguments(cls: type) -> Tuple[List[str], bool]:
    """``cls.__init__``'s keyword names, and whether it takes ``**kwargs``."""
    params = inspect.signature(cls.__init__).parameters.values()
    names = [p.name for p in params if p.name != 'self' and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind == p.VAR_KEYWORD for p in params)

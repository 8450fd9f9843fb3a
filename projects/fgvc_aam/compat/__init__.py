"""Every private or internal upstream name we use, in one place.

One module per upstream: :mod:`.mmengine` and :mod:`.mmpretrain`. Each
function there wraps one private name and is declared with
:func:`.guard.private`, which records the name with the versions it was
checked on and, when the installed version is outside that range, raises
:class:`.guard.UpstreamVersionError` (or takes the declared fallback)
instead of failing somewhere deep inside upstream. Code outside this
package reaches no private upstream name (``tests/test_compat`` checks it
with an AST scan).
"""
from .guard import (PRIVATE_NAMES, PrivateName, UpstreamVersionError,
                    check_private_names, declared_names)

__all__ = [
    'PRIVATE_NAMES', 'PrivateName', 'UpstreamVersionError',
    'check_private_names', 'declared_names'
]

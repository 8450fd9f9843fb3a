"""Renamed constructor arguments: the old name keeps working for a release.

One helper for every renamed argument, so each rename is one line at the
constructor it concerns::

    @renamed_arguments(alpha='margin')
    def __init__(self, num_classes, in_channels, margin=0.1, ...): ...

``LGMHead(..., alpha=0.2)`` then builds ``LGMHead(..., margin=0.2)`` and
warns; ``LGMHead(..., alpha=0.2, margin=0.2)`` raises.
"""
import functools
import inspect
import logging
import warnings
from typing import Callable, TypeVar

from mmengine.logging import print_log

F = TypeVar('F', bound=Callable)


def renamed_arguments(**renamed: str) -> Callable[[F], F]:
    """Decorate an ``__init__`` that accepts ``old=new`` renamed keywords.

    Calling with an old keyword warns with a :class:`DeprecationWarning`
    (and logs the same message at WARNING level: Python shows
    ``DeprecationWarning`` only in ``__main__``) naming the class being
    built, the old and the new name, and passes the
    value on under the new name. Giving both (the new one by keyword or
    position) raises :class:`TypeError`. The decorated signature (what
    :func:`inspect.signature` and the docs show) is the new one.

    Args:
        **renamed: ``old_name='new_name'`` pairs; each new name must be an
            argument of the decorated function and no old name may be.
    """

    def decorate(init: F) -> F:
        params = list(inspect.signature(init).parameters.values())
        names = [p.name for p in params]
        positional = [
            p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        for old, new in renamed.items():
            if new not in names:
                raise TypeError(f'renamed_arguments: {init.__qualname__} has '
                                f'no argument `{new}` (the new name of '
                                f'`{old}`)')
            if old in names:
                raise TypeError(f'renamed_arguments: {init.__qualname__} '
                                f'still takes `{old}`, the old name of '
                                f'`{new}`')

        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            for old, new in renamed.items():
                if old not in kwargs:
                    continue
                owner = type(self).__name__
                by_position = (new in positional
                               and positional.index(new) <= len(args))
                if new in kwargs or by_position:
                    raise TypeError(
                        f'{owner}: got both `{old}` (the deprecated name) and '
                        f'`{new}`; pass only `{new}`')
                message = (f'{owner}: the argument `{old}` is deprecated and '
                           'will be removed in the next release; use '
                           f'`{new}` instead')
                warnings.warn(message, DeprecationWarning, stacklevel=2)
                # Python hides DeprecationWarning outside __main__: say it
                # in the run's log too.
                print_log(message, logger='current', level=logging.WARNING)
                kwargs[new] = kwargs.pop(old)
            return init(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate

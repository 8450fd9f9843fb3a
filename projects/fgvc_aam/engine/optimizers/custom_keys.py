"""Unknown keys in ``paramwise_cfg.custom_keys`` entries are refused.

mmengine copies every key of a ``custom_keys`` entry into the parameter
group, so a typo (``lr_mul`` for ``lr_mult``) is stored and silently has no
effect. Allowed keys are ``lr_mult``, ``decay_mult``, ``name`` (the groups
of :class:`NamedGroupOptimWrapperConstructor`) and the optimizer's own
per-group options (its ``__init__`` arguments, e.g. ``momentum``). The
constructor checks its own config; our tools check every config before
anything is written (``projects.fgvc_aam_hardening.config_checks``),
whatever the
constructor.

A ``custom_keys`` name (matched by mmengine as a substring of parameter
names) that is in no parameter name is refused too, naming the closest
module and parameter names (``bakcbone`` would otherwise leave the backbone
at the base lr): :func:`check_custom_keys_match`, called with the real
model by :class:`NamedGroupOptimWrapperConstructor` and, for other
constructors, by ``projects.fgvc_aam_hardening.config_checks``.
"""
import difflib
from typing import Iterable, Optional

from ...utils.signatures import init_arguments, registered_class

CUSTOM_KEY_OPTIONS = ('lr_mult', 'decay_mult', 'name')


def check_custom_keys(optim_wrapper: Optional[dict],
                      where: str = 'optim_wrapper') -> None:
    """Raise ``KeyError`` for an unknown key in a ``custom_keys`` entry."""
    if not optim_wrapper:
        return
    custom_keys = (optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys') or {}
    from mmpretrain.registry import OPTIMIZERS
    optimizer = registered_class(
        OPTIMIZERS, (optim_wrapper.get('optimizer') or {}).get('type'))
    if optimizer is None:
        return  # cannot tell the optimizer's own options apart
    options = [n for n in init_arguments(optimizer)[0] if n != 'params']
    allowed = list(CUSTOM_KEY_OPTIONS) + options
    for pattern, entry in custom_keys.items():
        if not isinstance(entry, dict):
            raise TypeError(f'{where}.paramwise_cfg.custom_keys[{pattern!r}] '
                            f'must be a dict, got {entry!r}')
        unknown = sorted(set(entry) - set(allowed))
        if unknown:
            shown = ', '.join(f'{k}={entry[k]!r}' for k in unknown)
            raise KeyError(
                f'{where}.paramwise_cfg.custom_keys[{pattern!r}]: unknown '
                f'key(s) {shown}; allowed: {", ".join(allowed)}')


def check_custom_keys_match(custom_keys: Optional[dict],
                            param_names: Iterable[str],
                            where: str = 'optim_wrapper') -> None:
    """Raise ``KeyError`` for a ``custom_keys`` name that is a substring of
    no parameter name (mmengine's match), naming the closest names."""
    names = list(param_names)
    candidates = set()
    for name in names:
        parts = name.split('.')
        candidates.update(parts)
        candidates.update('.'.join(parts[:i]) for i in range(1, len(parts)))
    for key in custom_keys or {}:
        if any(key in name for name in names):
            continue
        close = difflib.get_close_matches(key, sorted(candidates), n=3,
                                          cutoff=0.6)
        raise KeyError(
            f'{where}.paramwise_cfg.custom_keys[{key!r}] matches no '
            f'parameter of the model ({len(names)} parameters), so its '
            'settings would be ignored; closest names: '
            f'{", ".join(map(repr, close)) or "none"}')

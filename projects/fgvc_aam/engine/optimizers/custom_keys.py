"""Unknown keys in ``paramwise_cfg.custom_keys`` entries are refused.

mmengine copies every key of a ``custom_keys`` entry into the parameter
group, so a typo (``lr_mul`` for ``lr_mult``) is stored and silently has no
effect. Allowed keys are ``lr_mult``, ``decay_mult``, ``name`` (the groups
of :class:`NamedGroupOptimWrapperConstructor`) and the optimizer's own
per-group options (its ``__init__`` arguments, e.g. ``momentum``). The
constructor checks its own config; our tools check every config before
anything is written (``fgvc_aam_tools.config_checks``), whatever the
constructor.
"""
from typing import Optional

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

"""Settings that would otherwise be ignored or fail late, refused at once.

- ``optim_wrapper.paramwise_cfg.custom_keys``: mmengine copies every key of
  an entry into the parameter group, so a typo (``lr_mul`` for
  ``lr_mult``) is stored and silently has no effect. Allowed keys are
  ``lr_mult``, ``decay_mult``, ``name`` (our named groups) and the
  optimizer's own per-group options (its ``__init__`` arguments, e.g.
  ``momentum``).
- hooks (``default_hooks``, ``custom_hooks``): an unknown argument of a
  hook whose ``__init__`` takes no ``**kwargs`` is reported naming the hook,
  the key and the allowed ones, before the runner is built.
"""
import inspect
from typing import Iterable, List, Optional, Tuple

from mmengine.config import Config

CUSTOM_KEY_OPTIONS = ('lr_mult', 'decay_mult', 'name')


def _resolve(registry, type_) -> Optional[type]:
    if not isinstance(type_, str):
        return type_ if inspect.isclass(type_) else None
    try:
        return registry.get(type_)
    except Exception:  # unknown scope or name: the build will say so
        return None


def _arguments(cls: type) -> Tuple[List[str], bool]:
    """``cls.__init__``'s keyword names, and whether it takes ``**kwargs``."""
    params = inspect.signature(cls.__init__).parameters.values()
    names = [p.name for p in params if p.name != 'self' and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind == p.VAR_KEYWORD for p in params)


def check_custom_keys(optim_wrapper: Optional[dict],
                      where: str = 'optim_wrapper') -> None:
    """Raise ``KeyError`` for an unknown key in a ``custom_keys`` entry."""
    if not optim_wrapper:
        return
    custom_keys = (optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys') or {}
    from mmpretrain.registry import OPTIMIZERS
    optimizer = _resolve(OPTIMIZERS,
                         (optim_wrapper.get('optimizer') or {}).get('type'))
    if optimizer is None:
        return  # cannot tell the optimizer's own options apart
    options = [n for n in _arguments(optimizer)[0] if n != 'params']
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


def _hook_cfgs(cfg: Config) -> Iterable[Tuple[str, dict]]:
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if isinstance(hook, dict):
            yield f'default_hooks.{name}', hook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict):
            yield f'custom_hooks[{i}]', hook


def check_hook_args(cfg: Config) -> None:
    """Raise ``TypeError`` for an argument a configured hook does not take,
    naming the hook, the key and the allowed ones."""
    from mmpretrain.registry import HOOKS
    for where, hook in _hook_cfgs(cfg):
        cls = _resolve(HOOKS, hook.get('type'))
        if cls is None:
            continue
        if hasattr(cls, 'allowed_arguments'):  # e.g. AtomicCheckpointHook
            names = list(cls.allowed_arguments())
        else:
            names, var_kwargs = _arguments(cls)
            if var_kwargs:
                continue  # takes anything
        unknown = sorted(k for k in set(hook) - {'type', 'priority'} -
                         set(names) if not k.startswith('_'))  # _scope_
        if unknown:
            shown = ', '.join(f'{k}={hook[k]!r}' for k in unknown)
            raise TypeError(
                f'{where} ({cls.__name__}): unknown argument(s) {shown}; '
                f'allowed: {", ".join(names) or "none"}')


def check_config(cfg: Config) -> None:
    """Every check above, on a merged config."""
    check_custom_keys(cfg.get('optim_wrapper'))
    check_hook_args(cfg)

"""Settings that would otherwise be ignored or fail late, refused at once.

- ``optim_wrapper.paramwise_cfg.custom_keys``: an unknown key in an entry
  (:func:`projects.fgvc_aam.engine.optimizers.custom_keys.check_custom_keys`),
  and a ``custom_keys`` name that matches no parameter of the model
  (``NamedGroupOptimWrapperConstructor`` checks it on the runner's model;
  for other constructors the model is built here once, on the CPU, only
  when ``custom_keys`` is set).
- hooks (``default_hooks``, ``custom_hooks``): an unknown argument of a
  hook whose ``__init__`` takes no ``**kwargs`` is reported naming the hook,
  the key and the allowed ones, before the runner is built.
"""
from typing import Iterable, Tuple

from mmengine.config import Config

from projects.fgvc_aam.engine.optimizers.custom_keys import (
    check_custom_keys, check_custom_keys_match)
from projects.fgvc_aam.utils.signatures import (init_arguments,
                                                registered_class)


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
        cls = registered_class(HOOKS, hook.get('type'))
        if cls is None:
            continue
        if hasattr(cls, 'allowed_arguments'):  # e.g. AtomicCheckpointHook
            names = list(cls.allowed_arguments())
        else:
            names, var_kwargs = init_arguments(cls)
            if var_kwargs:
                continue  # takes anything
        unknown = sorted(k for k in set(hook) - {'type', 'priority'} -
                         set(names) if not k.startswith('_'))  # _scope_
        if unknown:
            shown = ', '.join(f'{k}={hook[k]!r}' for k in unknown)
            raise TypeError(
                f'{where} ({cls.__name__}): unknown argument(s) {shown}; '
                f'allowed: {", ".join(names) or "none"}')


def check_custom_keys_in_model(cfg: Config) -> None:
    """Refuse a ``custom_keys`` name that matches no parameter of
    ``cfg.model`` when the constructor does not check it itself."""
    optim_wrapper = cfg.get('optim_wrapper') or {}
    custom_keys = (optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys')
    constructor = str(optim_wrapper.get('constructor', ''))
    if not custom_keys or not cfg.get('model') or constructor.endswith(
            'NamedGroupOptimWrapperConstructor'):
        return
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    scope = cfg.get('default_scope') or 'mmpretrain'
    try:
        with DefaultScope.overwrite_default_scope(scope):
            model = MODELS.build(cfg.model)
    except Exception:
        return  # the runner builds it again and reports the error
    check_custom_keys_match(custom_keys,
                            (n for n, _ in model.named_parameters()))


def check_config(cfg: Config) -> None:
    """Every check above, on a merged config."""
    check_custom_keys(cfg.get('optim_wrapper'))
    check_custom_keys_in_model(cfg)
    check_hook_args(cfg)

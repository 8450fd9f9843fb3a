"""Optimizer-wrapper constructor that builds few, *named* parameter groups.

mmengine's ``DefaultOptimWrapperConstructor`` with a ``paramwise_cfg`` makes
one parameter group per parameter, and a group carries no parameter names,
so a scheduler cannot tell the backbone's groups from the head's. It does
copy every extra key of a ``custom_keys`` entry into the group, though:
``custom_keys={'head': dict(lr_mult=10., name='head')}`` tags each head
parameter's group with ``name='head'``. This constructor runs the default
logic (so ``lr_mult``, ``decay_mult``, ``norm_decay_mult``, ... all work),
gives every untagged group the ``default_group`` name, and merges groups
whose settings are identical, which for the thesis recipe leaves exactly
two groups, ``backbone`` and ``head``. ``GroupMultiStepLR`` then looks the
milestones of each group up by name. The names live in the optimizer's
``param_groups`` and therefore in its state dict (checkpoints, resume), and
``auto_scale_lr`` scales each group's ``lr`` as usual.
"""
import inspect
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmpretrain.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                                 OPTIMIZERS)

from ...utils.checks import check_bool, check_str
from .custom_keys import check_custom_keys

#: the param-group key holding the group's name
GROUP_NAME_KEY = 'name'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class NamedGroupOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Default constructor + a ``name`` per param group + merged groups.

    Extra ``paramwise_cfg`` keys (on top of mmengine's):

    - ``default_group`` (str): name of groups no ``custom_keys`` entry
      tagged with ``name``. Defaults to ``'default'``.
    - ``merge_groups`` (bool): merge groups with identical settings (same
      name, lr, weight decay, ...). Defaults to True.

    Example (thesis fine-tuning: backbone lr 0.001, head lr 0.01)::

        optim_wrapper = dict(
            constructor='NamedGroupOptimWrapperConstructor',
            optimizer=dict(type='SGD', lr=0.001, momentum=0.9,
                           weight_decay=1e-4),
            paramwise_cfg=dict(
                default_group='backbone',
                custom_keys={'head': dict(lr_mult=10.0, name='head')}))
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        self.default_group = paramwise_cfg.pop('default_group', 'default')
        self.merge_groups = paramwise_cfg.pop('merge_groups', True)
        owner = 'NamedGroupOptimWrapperConstructor'
        check_str('paramwise_cfg.default_group', self.default_group, owner)
        check_bool('paramwise_cfg.merge_groups', self.merge_groups, owner)
        for key, opts in paramwise_cfg.get('custom_keys', {}).items():
            name = opts.get(GROUP_NAME_KEY) if isinstance(opts, dict) else 0
            if name is not None:
                check_str(f"custom_keys['{key}'].{GROUP_NAME_KEY}", name,
                          owner)
        check_custom_keys(dict(optim_wrapper_cfg, paramwise_cfg=paramwise_cfg))
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def named_groups(self, model: nn.Module) -> List[Dict]:
        """The (merged, named) parameter groups for ``model``."""
        params: List[Dict] = []
        self.add_params(params, model)
        for group in params:
            group.setdefault(GROUP_NAME_KEY, self.default_group)
        if not self.merge_groups:
            return params
        merged: Dict[tuple, Dict] = {}
        for group in params:
            key = tuple(
                sorted((k, repr(v)) for k, v in group.items()
                       if k != 'params'))
            if key in merged:
                merged[key]['params'].extend(group['params'])
            else:
                merged[key] = dict(group, params=list(group['params']))
        return list(merged.values())

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cls = optimizer_cfg['type']
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_cls = registry.get(optimizer_cfg['type'])
        first_arg_name = next(
            iter(inspect.signature(optimizer_cls).parameters))
        groups = self.named_groups(model)
        for group in groups:
            print_log(
                f'param group {group[GROUP_NAME_KEY]!r}: '
                f'{len(group["params"])} tensors, ' + ', '.join(
                    f'{k}={v}' for k, v in group.items()
                    if k not in ('params', GROUP_NAME_KEY)),
                logger='current')
        optimizer_cfg[first_arg_name] = groups
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(
            optim_wrapper_cfg, default_args=dict(optimizer=optimizer))


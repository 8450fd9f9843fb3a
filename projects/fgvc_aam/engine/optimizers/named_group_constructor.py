"""Optimizer-wrapper constructor that builds few, *named* parameter groups.

mmengine's ``DefaultOptimWrapperConstructor`` with a ``paramwise_cfg`` makes
one parameter group per parameter, and a group carries no parameter names,
so a scheduler cannot tell the backbone's groups from the head's. It does
copy every extra key of a ``custom_keys`` entry into the group, though:
``custom_keys={'head': dict(lr_mult=10., name='head')}`` tags each head
parameter's group with ``name='head'``. This constructor is mmengine's (its
``__call__`` and ``add_params``, so ``lr_mult``, ``decay_mult``,
``norm_decay_mult``, ... all work) except for the top-level ``add_params``
call, which also gives every untagged group the ``default_group`` name and
merges groups whose settings are identical; for the thesis recipe that leaves
exactly two groups, ``backbone`` and ``head``. ``GroupMultiStepLR`` then looks
the milestones of each group up by name. The names live in the optimizer's
``param_groups`` and therefore in its state dict (checkpoints, resume), and
``auto_scale_lr`` scales each group's ``lr`` as usual.
"""
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ...utils.checks import check_bool, check_str
from .custom_keys import check_custom_keys, check_custom_keys_match

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
        # Our two keys stay in the dict mmengine keeps (its ``add_params``
        # ignores them); a non-empty ``paramwise_cfg`` also makes its
        # ``__call__`` group through ``add_params`` rather than pass
        # ``model.parameters()``.
        super().__init__(
            optim_wrapper_cfg,
            dict(
                paramwise_cfg,
                default_group=self.default_group,
                merge_groups=self.merge_groups))

    def add_params(self,
                   params: List[Dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Union[int, float]] = None) -> None:
        """mmengine's grouping; the top-level call (``prefix=''``; mmengine
        recurses into children with their non-empty names) then names the
        groups and merges the identical ones."""
        if prefix:
            super().add_params(params, module, prefix, is_dcn_module)
            return
        check_custom_keys_match(self.paramwise_cfg.get('custom_keys'),
                                (n for n, _ in module.named_parameters()))
        groups: List[Dict] = []
        super().add_params(groups, module, prefix, is_dcn_module)
        for group in groups:
            group.setdefault(GROUP_NAME_KEY, self.default_group)
        if self.merge_groups:
            merged: Dict[tuple, Dict] = {}
            for group in groups:
                key = tuple(
                    sorted((k, repr(v)) for k, v in group.items()
                           if k != 'params'))
                if key in merged:
                    merged[key]['params'].extend(group['params'])
                else:
                    merged[key] = dict(group, params=list(group['params']))
            groups = list(merged.values())
        for group in groups:
            print_log(
                f'param group {group[GROUP_NAME_KEY]!r}: '
                f'{len(group["params"])} tensors, ' + ', '.join(
                    f'{k}={v}' for k, v in group.items()
                    if k not in ('params', GROUP_NAME_KEY)),
                logger='current')
        params.extend(groups)

    def named_groups(self, model: nn.Module) -> List[Dict]:
        """The (merged, named) parameter groups for ``model``."""
        params: List[Dict] = []
        self.add_params(params, model)
        return params

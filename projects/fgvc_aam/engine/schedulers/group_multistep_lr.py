"""Multi-step decay with different milestones for different param groups.

The thesis fine-tunes with lr 0.001 for the backbone decayed by 0.1 at epoch
60, and lr 0.01 for the classifier decayed at epochs 50 and 75 (chapter 4).
mmengine's ``MultiStepLR`` applies one milestone list to every group; these
schedulers take one list per *group name* (the ``name`` key that
``NamedGroupOptimWrapperConstructor`` or a ``custom_keys`` entry puts in the
param group).
"""
from collections import Counter
from typing import Dict, List, Mapping, Sequence, Union

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, OptimizerType
from mmpretrain.registry import PARAM_SCHEDULERS

from ...compat.mmengine import (ValueRuleMultiStepParamScheduler,
                                multistep_iter_from_epoch)
from ...utils.checks import check_float

MilestonesType = Union[Sequence[int], Mapping[str, Sequence[int]]]
GammaType = Union[float, Mapping[str, float]]

#: the entry of ``milestones`` / ``gamma`` used for unlisted groups
DEFAULT_KEY = 'default'
_BASE_PSEUDO_GROUP = object()


@PARAM_SCHEDULERS.register_module()
class GroupMultiStepParamScheduler(ValueRuleMultiStepParamScheduler):
    """``MultiStepParamScheduler`` with per-group milestones and gammas.

    Args:
        optimizer (OptimWrapper | Optimizer): Wrapped optimizer.
        param_name (str): The scheduled parameter, e.g. ``'lr'``.
        milestones (list[int] | dict[str, list[int]]): Steps (epochs if
            ``by_epoch``) at which the value is multiplied by ``gamma``. A
            dict maps a group name (the group's ``group_key`` entry) to its
            milestones; the ``'default'`` entry, if any, serves groups that
            have no name or an unlisted one. A list applies to all groups
            (plain ``MultiStepParamScheduler``).
        gamma (float | dict[str, float]): Decay factor, per group name like
            ``milestones``. Defaults to 0.1.
        group_key (str): The param-group key holding the name.
            Defaults to ``'name'``.
        begin, end, last_step, by_epoch, verbose: as in mmengine.

    As in mmengine, milestone ``k`` (epoch-based) means the decayed value
    is used from the ``k + 1``-th epoch on (after ``k`` completed epochs).
    """

    def __init__(self,
                 optimizer: OptimizerType,
                 param_name: str,
                 milestones: MilestonesType,
                 gamma: GammaType = 0.1,
                 group_key: str = 'name',
                 last_step: int = -1,
                 begin: int = 0,
                 end: int = INF,
                 by_epoch: bool = True,
                 verbose: bool = False):
        owner = type(self).__name__
        # mmengine's OptimWrapper appends a pseudo group (its
        # `base_param_settings`, logged as `base_lr`) when there are several
        # groups; it follows the 'default' entry, else the first group.
        base = getattr(optimizer, 'base_param_settings', None)
        groups = optimizer.param_groups
        real = [g for g in groups if g is not base]
        names = [
            group.get(group_key) if group is not base else
            _BASE_PSEUDO_GROUP for group in groups
        ]
        ms_map = _as_mapping(milestones, 'milestones', owner)
        gamma_map = _as_mapping(gamma, 'gamma', owner)
        for key, value in ms_map.items():
            message = (f'{owner}: `milestones[{key!r}]` must be a list of '
                       f'integers >= 0, got {value!r}')
            if not isinstance(value, (list, tuple)) or not all(
                    isinstance(m, int) and not isinstance(m, bool)
                    for m in value):
                raise TypeError(message)
            if not all(m >= 0 for m in value):
                raise ValueError(message)
        for key, value in gamma_map.items():
            check_float(f'gamma[{key!r}]', value, 0.0, strict_min=True,
                        owner=owner, finite=False)
        self.group_key = group_key
        first = real[0].get(group_key) if real else None

        def lookup(mapping, name, index, what):
            if name is _BASE_PSEUDO_GROUP:
                name = DEFAULT_KEY if DEFAULT_KEY in mapping else first
            return _lookup(mapping, name, index, what, owner)

        self.group_milestones: List[Dict[int, int]] = [
            dict(Counter(lookup(ms_map, name, i, 'milestones')))
            for i, name in enumerate(names)
        ]
        self.group_gammas: List[float] = [
            float(lookup(gamma_map, name, i, 'gamma'))
            for i, name in enumerate(names)
        ]
        names = [None if n is _BASE_PSEUDO_GROUP else n for n in names]
        self.group_names = names  # plain data: part of the state dict
        unused = set(ms_map) - set(names) - {DEFAULT_KEY}
        if unused:
            raise ValueError(
                f'{owner}: `milestones` names groups {sorted(unused)} that '
                f'the optimizer does not have; its groups are named '
                f'{sorted(set(map(str, names)))} (key {group_key!r})')
        all_steps = sorted({m for ms in self.group_milestones for m in ms})
        super().__init__(
            optimizer,
            param_name=param_name,
            milestones=all_steps,
            gamma=1.0,
            last_step=last_step,
            begin=begin,
            end=end,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              milestones: MilestonesType,
                              **kwargs) -> 'GroupMultiStepParamScheduler':
        """mmengine's epoch -> iter conversion; per-group milestones are
        converted as one flat list and regrouped."""
        if not isinstance(milestones, Mapping):
            return super().build_iter_from_epoch(
                *args, milestones=[int(m) for m in milestones], **kwargs)
        # mmengine's classmethod, with a factory that regroups in place of
        # the class it would instantiate
        sizes = {name: len(steps) for name, steps in milestones.items()}

        def regroup(*a, milestones: List[int], **kw):
            steps = iter(milestones)
            grouped = {
                name: [next(steps) for _ in range(n)]
                for name, n in sizes.items()
            }
            return cls(*a, milestones=grouped, **kw)

        flat = [int(m) for steps in milestones.values() for m in steps]
        return multistep_iter_from_epoch(regroup, *args, milestones=flat,
                                         **kwargs)

    def scheduled_values(self) -> List[float]:
        """Chainable form: decay each group at its own milestones."""
        values = []
        for group, steps, gamma in zip(self.optimizer.param_groups,
                                       self.group_milestones,
                                       self.group_gammas):
            value = group[self.param_name]
            if self.last_step in steps:
                value = value * gamma**steps[self.last_step]
            values.append(value)
        return values


@PARAM_SCHEDULERS.register_module()
class GroupMultiStepLR(LRSchedulerMixin, GroupMultiStepParamScheduler):
    """Per-group multi-step learning-rate decay.

    Example (thesis fine-tuning recipe)::

        param_scheduler = dict(
            type='GroupMultiStepLR', by_epoch=True, gamma=0.1,
            milestones=dict(backbone=[60], head=[50, 75]))
    """


def _as_mapping(value, name: str, owner: str) -> Dict:
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f'{owner}: `{name}` must not be empty')
        return dict(value)
    if isinstance(value, (list, tuple)) and name == 'milestones':
        return {DEFAULT_KEY: list(value)}
    if name == 'gamma':
        return {DEFAULT_KEY: value}
    raise TypeError(f'{owner}: `{name}` must be a list of epochs or a dict '
                    f'group name -> list, got {value!r}')


def _lookup(mapping: Dict, name, index: int, what: str, owner: str):
    if name in mapping:
        return mapping[name]
    if DEFAULT_KEY in mapping:
        return mapping[DEFAULT_KEY]
    raise ValueError(
        f'{owner}: param group {index} is named {name!r} but `{what}` has '
        f'no entry for it and no {DEFAULT_KEY!r} entry (entries: '
        f'{sorted(mapping)})')

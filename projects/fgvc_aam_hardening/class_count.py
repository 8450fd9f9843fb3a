"""The class count comes from the data set: one setting for own data.

A config states the number of classes in up to four places: the head
(``model.head.num_classes``, several heads, losses such as ``CenterLoss``),
``data_preprocessor.num_classes`` (mixup / cutmix one-hot labels) and the
``topk`` of ``Accuracy`` (top-5 on a 3-class set fails only when the first
validation runs). :func:`fill_num_classes` reads the class count from the
data sets the run will use (``len(dataset.metainfo['classes'])``, data sets
built with ``lazy_init`` where they allow it) and sets all of them before
anything is built, logging each key it changed. ``DatasetConsistencyHook``
(in our ``default_runtime``) checks the same facts for MMPretrain's own
tools, which do not call this.
"""
import copy
import logging
from typing import Any, List, Optional, Tuple

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from projects.fgvc_aam.datasets.validation import dataset_class_count
from projects.fgvc_aam.utils.signatures import (init_arguments,
                                                registered_class)

ACCURACY_TYPES = ('Accuracy', 'mmpretrain.Accuracy')


def _build_dataset(ds_cfg: dict):
    """The data set of a dataloader config, without loading its data list
    where its class allows ``lazy_init`` and names its classes without it
    (``CUBWithBoxes``: ``classes.txt``); otherwise fully initialised (e.g.
    ``CustomDataset`` finds its classes by scanning folders)."""
    from mmpretrain.registry import DATASETS
    ds_cfg = copy.deepcopy(ds_cfg)
    cls = registered_class(DATASETS, ds_cfg.get('type'))
    if cls is not None:
        names, var_kwargs = init_arguments(cls)
        if 'lazy_init' in names or var_kwargs:
            ds_cfg.setdefault('lazy_init', True)
    dataset = DATASETS.build(ds_cfg)
    if getattr(dataset, 'metainfo', {}).get('classes') is None \
            and hasattr(dataset, 'full_init'):
        dataset.full_init()
    return dataset


def config_class_count(cfg: Config,
                       training: bool) -> Optional[Tuple[str, int]]:
    """``(description, number of classes)`` of the data sets a run uses
    (train + val when training, test otherwise); None where none names
    its classes."""
    splits = ('train', 'val') if training else ('test', )
    datasets = []
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        for split in splits:
            loader = cfg.get(f'{split}_dataloader')
            if not (isinstance(loader, dict)
                    and isinstance(loader.get('dataset'), dict)):
                continue
            try:
                datasets.append(_build_dataset(loader['dataset']))
            except (OSError, ValueError) as e:  # missing or bad files
                # the runner builds it again and reports the same error
                print_log(f'{split}_dataloader.dataset: class count not '
                          f'read ({type(e).__name__}: {e})',
                          logger='current', level=logging.DEBUG)
    return dataset_class_count(datasets)


def _set_num_classes(node: Any, n: int, key: str,
                     changed: List[str]) -> None:
    """Set every positive integer ``num_classes`` under ``node`` to ``n``
    (values <= 0 mean "no classifier", e.g. ``VGG(num_classes=-1)``)."""
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f'{key}.{k}'
            if k == 'num_classes' and isinstance(v, int) and not isinstance(
                    v, bool) and v > 0 and v != n:
                node[k] = n
                changed.append(f'{sub}={n} (was {v})')
            else:
                _set_num_classes(v, n, sub, changed)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            _set_num_classes(v, n, f'{key}.{i}', changed)


def _fit_topk(cfg: Config, n: int, changed: List[str]) -> None:
    """Drop the ``k > n`` of every ``Accuracy`` evaluator's ``topk``."""
    for name in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(name)
        metrics = evaluator if isinstance(evaluator, list) else [evaluator]
        for i, metric in enumerate(metrics):
            if not isinstance(metric, dict) or metric.get(
                    'type') not in ACCURACY_TYPES:
                continue
            topk = metric.get('topk', (1, ))
            topk = (topk, ) if isinstance(topk, int) else tuple(topk)
            keep = tuple(k for k in topk if k <= n) or (1, )
            if keep != topk:
                metric['topk'] = keep
                key = f'{name}.{i}' if isinstance(evaluator, list) else name
                changed.append(f'{key}.topk={keep} (was {topk})')


def fill_num_classes(cfg: Config, training: bool = True) -> Optional[int]:
    """Set every class count of ``cfg`` (model, data preprocessor,
    ``Accuracy`` top-k) from its data sets, in place; return the count
    (None where the data sets do not name their classes: nothing changes,
    and ``DatasetConsistencyHook`` still checks what it can)."""
    found = config_class_count(cfg, training)
    if found is None:
        return None
    data, n = found
    changed: List[str] = []
    _set_num_classes(cfg.get('model'), n, 'model', changed)
    _set_num_classes(cfg.get('data_preprocessor'), n, 'data_preprocessor',
                     changed)
    _fit_topk(cfg, n, changed)
    if changed:
        print_log(f'{data} has {n} classes; set from it: '
                  + ', '.join(changed), logger='current',
                  level=logging.WARNING)
    return n

"""The shared budget of a comparison as functions from config to config.

Every function takes a :class:`mmengine.config.Config` and changes it in
place (returning it where that is convenient); none reads files or the
command line, so each can be tested on a hand-made config.
"""
from copy import deepcopy
from typing import List, Optional

from mmengine.config import Config

CROP_KEYS = {
    'RandomResizedCrop': 'scale',
    'BoxAwareRandomResizedCrop': 'scale',
    'CenterCrop': 'crop_size',
    'RandomCrop': 'crop_size',
    'BoxAwareRandomCrop': 'crop_size',
}
RESIZE_TYPES = ('Resize', 'ResizeEdge', 'BoxAwareResizeEdge')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def datasets_of(loader: dict) -> List[dict]:
    """The dataset dict of a loader and the ones it wraps."""
    out, ds = [], loader.get('dataset')
    while isinstance(ds, dict):
        out.append(ds)
        ds = ds.get('dataset')
    return out


def _scale(value, factor: float):
    if isinstance(value, (list, tuple)):
        return type(value)(_scale(v, factor) for v in value)
    if isinstance(value, dict):
        return {k: _scale(v, factor) for k, v in value.items()}
    return int(round(value * factor))


def rescale_epochs(cfg: Config, epochs: int) -> None:
    """Set ``max_epochs`` and rescale epoch milestones proportionally.

    Applies to ``begin``/``end``/``milestones``/``T_max``/``step_size`` of
    every param scheduler and ``k1``/``k2`` of ``MarginScheduleHook``.
    """
    old = cfg.train_cfg.get('max_epochs')
    if old is None:
        raise ValueError('compare_methods: only epoch-based configs '
                         '(train_cfg.max_epochs) are supported')
    if epochs == old:
        return
    f = epochs / old
    scheds = cfg.get('param_scheduler') or []
    for s in scheds if isinstance(scheds, list) else [scheds]:
        for key in ('begin', 'milestones', 'T_max', 'step_size'):
            if key in s:
                s[key] = _scale(s[key], f)
        if 'end' in s and s['end'] < 1e8:
            s['end'] = max(int(round(s['end'] * f)), s.get('begin', 0) + 1)
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') == 'MarginScheduleHook':
            for key in ('k1', 'k2'):
                if key in hook:  # exact (float) milestones keep k1 < k2
                    k = round(hook[key] * f, 3)
                    hook[key] = int(k) if k == int(k) else k
    cfg.train_cfg.max_epochs = epochs


def set_input_size(cfg: Config, size: int) -> None:
    """Last crop of every pipeline -> ``size``; resizes before it alike."""
    for name in LOADERS:
        for ds in datasets_of(cfg.get(name) or {}):
            pipe = ds.get('pipeline') or []
            crops = [t for t in pipe if t.get('type') in CROP_KEYS]
            old = None
            if crops:
                key = CROP_KEYS[crops[-1]['type']]
                old = crops[-1][key]
                old = old[0] if isinstance(old, (list, tuple)) else old
                for t in crops:
                    t[CROP_KEYS[t['type']]] = size
            for t in pipe:
                if t.get('type') in RESIZE_TYPES and 'scale' in t:
                    sc = t['scale']
                    ref = old if old else (
                        sc[0] if isinstance(sc, (list, tuple)) else sc)
                    f = size / ref
                    t['scale'] = _scale(sc, f) if old else size


def set_num_classes(cfg: Config, num_classes: int) -> None:
    cfg.model.head.num_classes = num_classes
    for holder in (cfg, cfg.model):
        if holder.get('data_preprocessor') is not None:
            holder.data_preprocessor['num_classes'] = num_classes


def num_classes_of(cfg: Config) -> int:
    head = cfg.model.get('head') or {}
    return int(head.get('num_classes', 0))


def evaluators(cfg: Config, num_classes: int) -> List[dict]:
    """Top-1/5, per-class mean accuracy, and CorLoc for two-branch models
    on data with boxes (keeping a LocalizationMetric the config has)."""
    topk = (1, 5) if num_classes >= 5 else (1, )
    evs = [dict(type='Accuracy', topk=topk),
           dict(type='SingleLabelMetric', items=('recall', ),
                average='macro')]
    old = cfg.get('val_evaluator')
    old = old if isinstance(old, list) else [old] if old else []
    loc = [e for e in old if e.get('type') == 'LocalizationMetric']
    has_boxes = all(
        ds.get('with_bbox', False)
        for ds in datasets_of(cfg.get('val_dataloader') or {})[:1])
    if cfg.model.get('type') == 'TwoBranchClassifier' and has_boxes:
        evs.append(loc[0] if loc else dict(type='LocalizationMetric',
                                           iou_thr=0.5))
    return evs


def input_shape_of(cfg: Config) -> tuple:
    """(3, H, W) after the test pipeline's last crop or resize."""
    size = None
    for t in (datasets_of(cfg.get('test_dataloader') or {})[:1]
              or [{}])[0].get('pipeline', []):
        if t.get('type') in CROP_KEYS:
            size = t[CROP_KEYS[t['type']]]
        elif t.get('type') in RESIZE_TYPES and size is None:
            size = t.get('scale')
    size = size or 224
    if isinstance(size, (list, tuple)):
        return (3, size[1], size[0])  # mmcv scale is (w, h)
    return (3, size, size)


def carve_validation(cfg: Config, fraction: float = 0.2,
                     seed: int = 0) -> Config:
    """Validate on images carved from the training split, not the test one.

    The train loader keeps the ``'train'`` part of
    :class:`~projects.fgvc_aam.datasets.CarvedSplit`; the val loader gets
    the ``'val'`` part of the same training split, read with the val
    loader's (test-time) pipeline. The test loader is left alone.
    """
    train = cfg.train_dataloader.dataset
    if train.get('type') == 'CarvedSplit':
        raise ValueError('carve_validation: the train split is carved '
                         'already')
    val = deepcopy(train)
    val['pipeline'] = deepcopy(cfg.val_dataloader.dataset.get(
        'pipeline', train.get('pipeline')))
    common = dict(type='CarvedSplit', fraction=fraction, seed=seed)
    cfg.train_dataloader.dataset = dict(common, part='train',
                                        dataset=deepcopy(train))
    cfg.val_dataloader.dataset = dict(common, part='val', dataset=val)
    return cfg


def set_pretrained(cfg: Config, checkpoint: Optional[str]) -> Config:
    """Point the backbone's ``Pretrained`` init at ``checkpoint``."""
    init = cfg.model.backbone.get('init_cfg')
    if checkpoint and isinstance(init, dict) and init.get(
            'type') == 'Pretrained':
        init['checkpoint'] = checkpoint
    return cfg


def pretrained_of(cfg: Config) -> Optional[str]:
    """The backbone's ``Pretrained`` checkpoint, if any."""
    init = cfg.model.get('backbone', {}).get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        return init.get('checkpoint')
    return None

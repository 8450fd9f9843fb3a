"""The regimes, their default configs and budgets, the named sweep plans,
and the list of runs (with their effective configs) of a comparison.

Regimes:

- ``finetune`` (default): the ``*_resnet18-w16-synpre_*`` siblings, whose
  backbone is pretrained on the synthetic pretraining set
  (:mod:`.pretrain`) and fine-tuned with the thesis's recipe scaled (the
  Tables 7 and 9 analogs). Validation runs on a split carved from the
  training images (:func:`.budget.carve_validation`); the test split is
  evaluated once per run, after the last epoch (:mod:`.evaluate`).
- ``scratch``: the from-scratch ``*_resnet18-w16_1xb16-30e_*`` siblings and
  the tool's original protocol (validation = the test split, last epoch),
  the Table 8 analog. Its effective configs are those of the tool before
  regimes existed.

Plans (``--plan``): ``default`` (every method), and sweeps of the thesis
model (two-branch + AAM step): ``overflow`` (literal / monotonic),
``scale`` (s = 16 / 30 / 64) and ``test_branch`` (raw / object / sum,
evaluated on the checkpoints of the default plan's runs, no training);
``mechanism``: the mechanism study of :mod:`.mechanism` (its own configs,
the ``mechanism`` regime).
"""
import argparse
import os
import os.path as osp
import re
import json
import time
from collections import OrderedDict
from copy import deepcopy
from typing import Dict, List, Optional

from mmengine.config import Config

from .budget import (LOADERS, carve_validation, datasets_of, evaluators,
                     num_classes_of, pretrained_of, rescale_epochs,
                     set_input_size, set_num_classes, set_pretrained)
from .pretrain import OBJECTS_STABLE_PATH, STABLE_PATH
from .results import read_result
from .runs import complexity, signature

# the repository (configs/, tools/): the package is installed from it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_SYN = '_resnet18-w16_1xb16-30e_synthetic-fgvc.py'
_FT = '_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py'
_METHODS = [
    'baseline/finetune', 'aam/arcface-m0.5', 'aam/aam-step', 'aam/aam-linear',
    'aam/aam-exp', 'two_branch/two-branch-softmax',
    'two_branch/two-branch-aam-step', 'mc_loss/mc-loss', 'bcnn/bcnn'
]
REGIMES: Dict[str, dict] = OrderedDict(
    finetune=dict(
        configs=[f'configs/{m}{_FT}' for m in _METHODS],
        # 10 of the configs' 20 epochs (milestones rescaled: backbone lr
        # after epoch 6, head after 5 and 8, margin 0.25 from epoch 3, 0.5
        # from 6) at 96 px: what fits the 60-minute budget on 2 shared CPU
        # cores (see the README's pre-registered protocol).
        epochs=10, input_size=96, carve=True, evaluate=True),
    scratch=dict(
        configs=[f'configs/{m}{_SYN}' for m in _METHODS],
        # 20 of the configs' 30 epochs at 96 px: 9 methods x 3 seeds in
        # about 30 minutes of 2 CPU cores.
        epochs=20, input_size=96, carve=False, evaluate=False),
    # the mechanism study (--plan mechanism, .mechanism): the configs'
    # own 12 epochs at 96 px, carved validation, test split once
    mechanism=dict(configs=[], epochs=None, input_size=None, carve=True,
                   evaluate=True),
)
# Short method names for the table (config stem -> name).
DEFAULT_NAMES: Dict[str, str] = {
    'finetune': 'softmax baseline',
    'arcface-m0.5': 'ArcFace (m = 0.5)',
    'aam-step': 'AAM step',
    'aam-linear': 'AAM linear',
    'aam-exp': 'AAM exponential',
    'two-branch-softmax': 'two-branch softmax',
    'two-branch-aam-step': 'two-branch AAM step (thesis)',
    'mc-loss': 'MC-loss',
    'bcnn': 'B-CNN',
}
THESIS_METHOD = 'two_branch/two-branch-aam-step'
# Sweeps of the thesis model: (label, cfg-options of each value). An
# option equal to the config's own value adds no run: it is the default
# plan's run.
SWEEPS: Dict[str, List[tuple]] = OrderedDict(
    overflow=[(f'overflow={v}', {'model.head.overflow': v})
              for v in ('literal', 'monotonic')],
    scale=[(f's={v}', {'model.head.scale': float(v)})
           for v in (16, 30, 64)],
    test_branch=[(f'test_branch={v}', {'@branch': v})
                 for v in ('raw', 'object', 'sum')],
)
PLANS = ['default'] + list(SWEEPS) + ['mechanism']
BRANCHES = ('raw', 'object', 'sum')
CARVE_FRACTION = 0.2  # 20 of the 100 training images of every class
CARVE_SEED = 0


def method_name(config: str) -> str:
    """Short name from a config file name ``{algorithm}_{backbone}_...``."""
    stem = osp.splitext(osp.basename(config))[0]
    algo = stem.split('_')[0]
    return DEFAULT_NAMES.get(algo, stem) if stem.endswith(
        'synthetic-fgvc') else stem


def thesis_config(regime: str) -> str:
    return next(c for c in REGIMES[regime]['configs']
                if THESIS_METHOD in c)


def _get(cfg: Config, dotted: str):
    node = cfg.to_dict() if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def effective_config(config: str, seed: int, args: argparse.Namespace,
                     data_root: Optional[str],
                     num_classes: Optional[int],
                     options: Optional[dict] = None) -> Config:
    """The config a run trains: ``config`` with the shared budget.

    ``args`` carries the budget (``epochs``, ``input_size``,
    ``batch_size``, ``num_workers``, ``gpus``, ``val_interval``,
    ``margin_overflow``, ``cfg_options``, and, in the finetune regime,
    ``carve`` and ``pretrained``); ``options`` the sweep's cfg-options.
    """
    cfg = Config.fromfile(osp.join(ROOT, config) if not osp.isabs(config)
                          else config)
    if args.epochs is not None:
        rescale_epochs(cfg, args.epochs)
    epochs = cfg.train_cfg.max_epochs
    cfg.train_cfg.val_interval = args.val_interval or epochs
    if args.input_size:
        set_input_size(cfg, args.input_size)
    if num_classes:
        set_num_classes(cfg, num_classes)
    if args.margin_overflow and (cfg.model.get('head') or {}).get(
            'type') == 'AngularMarginHead':
        cfg.model.head.overflow = args.margin_overflow
    for name in LOADERS:
        loader = cfg.get(name)
        if not loader:
            continue
        if data_root:
            for ds in datasets_of(loader):
                if 'data_root' in ds:
                    ds['data_root'] = data_root
        if args.batch_size:
            loader['batch_size'] = args.batch_size
        if args.num_workers is not None or not args.gpus:
            loader['num_workers'] = (args.num_workers
                                     if args.num_workers is not None else 0)
            if loader['num_workers'] == 0:
                loader['persistent_workers'] = False
    evs = evaluators(cfg, num_classes_of(cfg))
    cfg.val_evaluator = evs
    cfg.test_evaluator = deepcopy(evs)
    cfg.randomness = dict(seed=seed, deterministic=False)
    # Keep only the last checkpoint (resume), no "best" model selection.
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, save_best=None)
    cfg.default_hooks.logger.interval = min(
        cfg.default_hooks.logger.get('interval', 50), 10)
    if getattr(args, 'carve', False):
        carve_validation(cfg, CARVE_FRACTION, CARVE_SEED)
    if getattr(args, 'pretrained', None) and pretrained_of(cfg) in (
            STABLE_PATH, OBJECTS_STABLE_PATH):  # the cached file behind it
        set_pretrained(cfg, args.pretrained)
    if options:
        cfg.merge_from_dict({k: v for k, v in options.items()
                             if not k.startswith('@')})
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def prepare_data(args: argparse.Namespace, configs: List[str],
                 work_dir: str):
    """(data_root, num_classes) the runs use; generates synthetic data."""
    if args.data_root:
        return osp.abspath(args.data_root), None
    synthetic = []
    for c in configs:
        cfg = Config.fromfile(osp.join(ROOT, c) if not osp.isabs(c) else c)
        roots = [ds.get('data_root', '') for ds in datasets_of(
            cfg.get('train_dataloader') or {})]
        synthetic.append(any('synthetic_fgvc' in str(r) for r in roots))
    if not any(synthetic):
        return None, None
    if not all(synthetic):
        raise ValueError('compare_methods: mixing synthetic and real-data '
                         'configs; pass --data-root')
    from ..synthetic_fgvc import (
        DEFAULT_PARAMS, make_synthetic_fgvc, synthetic_fgvc_is_complete)
    params = dict(DEFAULT_PARAMS, **args.synthetic_params)
    for key, value in params.items():  # DictAction keeps CLI strings
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    root = osp.join(work_dir, 'data', 'synthetic_fgvc')
    if not synthetic_fgvc_is_complete(root, **params):
        t0 = time.time()
        make_synthetic_fgvc(root, **params)
        print(f'generated the synthetic set into {root} '
              f'({time.time() - t0:.1f} s): {params}')
    return root, int(params['num_classes'])


def variants(args: argparse.Namespace) -> List[tuple]:
    """(config, name, options) of every row of the plan."""
    if getattr(args, 'rows', None):  # a stage of the mechanism study
        return args.rows
    if args.plan == 'default':
        configs = args.configs or REGIMES[args.regime]['configs']
        names = args.names or [method_name(c) for c in configs]
        return [(c, n, {}) for c, n in zip(configs, names)]
    config = (args.configs[0] if args.configs
              else thesis_config(args.regime))
    return [(config, label, opts) for label, opts in SWEEPS[args.plan]]


def _tag(cfg_before: Config, options: dict) -> str:
    """Run-folder suffix of the options that change the config."""
    changed = [(k, v) for k, v in options.items()
               if not k.startswith('@') and _get(cfg_before, k) != v]
    return ''.join(f'@{k.rsplit(".", 1)[-1]}={v}' for k, v in changed)


def plan(args: argparse.Namespace) -> List[dict]:
    """Every (row, seed) of the comparison with its effective config
    written to its run folder (the folder is shared by rows that train the
    same config)."""
    regime = REGIMES[args.regime]
    if not args.configs:
        if args.epochs is None:
            args.epochs = regime['epochs']
        if args.input_size is None:
            args.input_size = regime['input_size']
    args.carve = regime['carve']
    if args.plan == 'test_branch' and not regime['evaluate']:
        raise ValueError('compare_methods: the test_branch plan needs the '
                         'finetune regime (a carved validation split)')
    rows = variants(args)
    work_dir = osp.abspath(args.work_dir)
    data_root, num_classes = prepare_data(
        args, list(OrderedDict.fromkeys(c for c, _, _ in rows)), work_dir)
    names = [n for _, n, _ in rows]
    if len(set(names)) != len(names):
        raise ValueError(f'compare_methods: duplicate method names {names}')
    runs = []
    cplx: Dict[str, dict] = {}
    # Seed-major order: a partial job covers every method with the first
    # seeds before it starts the next seed.
    for seed in args.seeds:
        for config, name, options in rows:
            slug = re.sub(r'[^A-Za-z0-9._-]+', '-', osp.splitext(
                osp.basename(config))[0])
            base = effective_config(config, seed, args, data_root,
                                    num_classes)
            tag = _tag(base, options)
            cfg = effective_config(config, seed, args, data_root,
                                   num_classes, options) if tag else base
            slug_dir = slug + tag
            run_dir = osp.join(work_dir, 'runs', slug_dir, f'seed_{seed}')
            cfg_path = osp.join(run_dir, f'{slug}.py')
            sig = signature(cfg.pretty_text)
            prepare_run_dir(run_dir, sig, args.retrain)
            write_run_config(cfg, cfg_path, sig)
            if args.dry_run:
                cplx[slug_dir] = {}  # not needed to print the commands
            elif slug_dir not in cplx:
                cplx_path = osp.join(work_dir, 'runs', slug_dir,
                                     'complexity.json')
                if osp.isfile(cplx_path) and not args.retrain:
                    with open(cplx_path) as f:
                        cplx[slug_dir] = json.load(f)
                else:
                    cplx[slug_dir] = complexity(cfg)
                    with open(cplx_path, 'w') as f:
                        json.dump(cplx[slug_dir], f)
            world = max(args.gpus, 1)
            two_branch = cfg.model.get('type') == 'TwoBranchClassifier'
            runs.append(dict(
                config=config, name=name, seed=seed, run_dir=run_dir,
                cfg_path=cfg_path, signature=sig,
                complexity=cplx[slug_dir],
                epochs=cfg.train_cfg.max_epochs, gpus=args.gpus,
                jobs=args.jobs, key=f'{config}{tag}#{seed}',
                label=f'{name} [seed {seed}]',
                evaluate=regime['evaluate'],
                branches=BRANCHES if (regime['evaluate'] and two_branch)
                else (),
                branch=options.get('@branch'),
                pretrained=pretrained_of(cfg),
                images_per_iter=cfg.train_dataloader.batch_size * world))
    return runs


def write_run_config(cfg: Config, cfg_path: str, sig: str) -> None:
    """Write a run's effective config and its ``signature`` file, unless
    both are there with this signature already. Each file is written
    beside and renamed into place: a job that starts while another
    invocation plans (``--report-only`` during a Slurm run) never reads a
    half-written config."""
    run_dir = osp.dirname(cfg_path)
    sig_path = osp.join(run_dir, 'signature')
    if osp.isfile(cfg_path) and osp.isfile(sig_path):
        with open(sig_path) as f:
            if f.read() == sig:
                return
    name, ext = osp.splitext(osp.basename(cfg_path))
    tmp = osp.join(run_dir, f'.{name}.partial{ext}')  # dump() reads ext
    cfg.dump(tmp)
    os.replace(tmp, cfg_path)
    with open(sig_path + '.partial', 'w') as f:
        f.write(sig)
    os.replace(sig_path + '.partial', sig_path)


def prepare_run_dir(run_dir: str, sig: str, retrain: bool) -> None:
    """Refuse a finished run of another config; restart a stale one."""
    import glob
    import shutil
    os.makedirs(run_dir, exist_ok=True)
    old = osp.join(run_dir, 'result.json')
    if osp.isfile(old) and not retrain:
        prev = read_result(old)
        if prev.get('signature') != sig:
            raise RuntimeError(
                f'compare_methods: {run_dir} holds a finished run of '
                'a different effective config; pass --retrain or '
                'another --work-dir')
    sig_path = osp.join(run_dir, 'signature')
    stale = False
    if osp.isfile(sig_path):
        with open(sig_path) as f:
            stale = f.read() != sig
    if retrain or (stale and not osp.isfile(old)):
        # a different (or forced) run: start this folder afresh
        for f in glob.glob(osp.join(run_dir, '*')):
            (shutil.rmtree if osp.isdir(f) else os.remove)(f)

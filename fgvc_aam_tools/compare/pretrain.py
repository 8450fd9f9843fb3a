"""The pretrained backbone of the finetune regime, cached by content.

``ensure_pretrained()`` generates the synthetic pretraining set
(``PRETRAIN_PARAMS`` of :mod:`fgvc_aam_tools.synthetic_fgvc`),
trains ``PRETRAIN_CONFIG`` on it with ``tools/train.py`` and returns the
path of the last checkpoint, an ordinary MMPretrain checkpoint
(``state_dict`` with ``backbone.*`` and ``head.*`` keys) that the
fine-tuning configs load with ``init_cfg=dict(type='Pretrained',
checkpoint=..., prefix='backbone')``.

The cache key is the SHA-1 of the effective config (data root replaced by
a placeholder), the generator parameters and the generator version: the
checkpoint lives in ``<root>/<key>/pretrained.pth`` and a second call with
the same content returns it at once. The fine-tuning configs name a fixed
path (``STABLE_PATH``); the finished checkpoint is also copied there, with
a ``.json`` next to it that records its key. A file at that path that this
tool did not write (no such ``.json``) is never overwritten.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Optional, Sequence, Tuple

from mmengine.config import Config

from .budget import LOADERS, datasets_of

# the repository (configs/, tools/): the package is installed from it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN_CONFIG = ('configs/pretrain/'
                   'softmax_resnet18-w16_1xb16-30e_synthetic-fgvc-pretrain.py')
DEFAULT_ROOT = 'work_dirs/pretrain_synthetic'
STABLE_PATH = 'work_dirs/pretrained/resnet18-w16_synthetic-fgvc-pretrain.pth'
# The mechanism study's object-centric pretraining (48 object kinds, the
# three-stage backbone at a 12x12 map): config, its fixed path.
OBJECTS_CONFIG = ('configs/pretrain/'
                  'softmax_resnet18-w16-s3_1xb32-15e_synthetic-objects-'
                  'pretrain.py')
OBJECTS_STABLE_PATH = ('work_dirs/pretrained/'
                       'resnet18-w16-s3_synthetic-objects-pretrain.pth')
_PLACEHOLDER = '<pretraining data>'


def _abs(path: str) -> str:
    return path if osp.isabs(path) else osp.join(ROOT, path)


def pretrain_config(data_root: str,
                    config: str = PRETRAIN_CONFIG) -> Config:
    """The pretraining config with every split reading ``data_root``."""
    cfg = Config.fromfile(_abs(config))
    for name in LOADERS:
        for ds in datasets_of(cfg.get(name) or {}):
            if 'data_root' in ds:
                ds['data_root'] = data_root
    return cfg


def cache_key(config: str = PRETRAIN_CONFIG,
              params: Optional[dict] = None) -> str:
    """SHA-1 (12 hex) of the config, the data parameters and version."""
    from ..synthetic_fgvc import GENERATOR_VERSION, PRETRAIN_PARAMS
    params = dict(PRETRAIN_PARAMS if params is None else params)
    text = pretrain_config(_PLACEHOLDER, config).pretty_text
    blob = json.dumps(dict(config=text, params=params,
                           generator=GENERATOR_VERSION), sort_keys=True,
                      default=list)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def cached_checkpoint(root: str = DEFAULT_ROOT,
                      config: str = PRETRAIN_CONFIG,
                      params: Optional[dict] = None) -> Tuple[str, bool]:
    """(checkpoint path for this content, whether it exists already)."""
    path = osp.join(_abs(root), cache_key(config, params), 'pretrained.pth')
    return path, osp.isfile(path)


def _backbone_record(cfg: Config) -> dict:
    """What a cache entry records of the model that made it."""
    return json.loads(json.dumps(dict(backbone=cfg.model.backbone),
                                 sort_keys=True, default=list))


def check_pretrained(ckpt: str, cfg: Config) -> None:
    """Refuse a cached checkpoint that is not the pretraining of ``cfg``.

    The file is read by our safe loader (no code runs; zip CRCs checked);
    its tensors must fit ``cfg``'s model exactly (catches another width or
    depth), and the record written next to it (``pretrained.json``, ours)
    must name the same backbone config (catches e.g. other strides).

    Raises:
        projects.fgvc_aam.engine.CheckpointRefusedError: damaged / crafted.
        projects.fgvc_aam.engine.CheckpointMismatchError: another model.
    """
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import projects.fgvc_aam  # noqa: F401  (registers the model parts)
    from projects.fgvc_aam.engine import (CheckpointMismatchError,
                                          check_checkpoint_fits,
                                          load_checkpoint_file)
    checkpoint = load_checkpoint_file(ckpt, map_location='cpu')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    check_checkpoint_fits(model, checkpoint, ckpt)
    record = osp.join(osp.dirname(ckpt), 'pretrained.json')
    if osp.isfile(record):
        with open(record) as f:
            made_by = json.load(f).get('backbone')
        if made_by != _backbone_record(cfg)['backbone']:
            raise CheckpointMismatchError(
                f'cached checkpoint {ckpt!r} was made by backbone '
                f'{made_by!r}, not by this config\'s '
                f'{_backbone_record(cfg)["backbone"]!r} ({record}); '
                'delete that cache folder to pretrain again.')


def _publish(ckpt: str, key: str, stable: str) -> None:
    """Copy the checkpoint to the configs' fixed path (ours only)."""
    stable = _abs(stable)
    side = stable + '.json'
    if osp.exists(stable) and not osp.isfile(side):
        print(f'pretrain: {stable} exists and was not written by this tool; '
              'left as it is (the comparison uses the cached checkpoint '
              f'{ckpt})')
        return
    os.makedirs(osp.dirname(stable), exist_ok=True)
    tmp = stable + '.tmp'
    shutil.copyfile(ckpt, tmp)
    os.replace(tmp, stable)
    with open(side, 'w') as f:
        json.dump(dict(key=key, source=ckpt), f, indent=1)


def ensure_pretrained(root: str = DEFAULT_ROOT,
                      config: str = PRETRAIN_CONFIG,
                      params: Optional[dict] = None,
                      stable: Optional[str] = STABLE_PATH,
                      threads: Optional[int] = None,
                      log=print) -> str:
    """Path of the pretrained checkpoint; pretrains it if not cached."""
    from ..synthetic_fgvc import (
        PRETRAIN_PARAMS, make_synthetic_fgvc, synthetic_fgvc_is_complete)
    params = dict(PRETRAIN_PARAMS if params is None else params)
    key = cache_key(config, params)
    out = osp.join(_abs(root), key)
    ckpt = osp.join(out, 'pretrained.pth')
    if osp.isfile(ckpt):
        check_pretrained(ckpt, pretrain_config(_PLACEHOLDER, config))
        log(f'pretrain: cached {ckpt} (verified against {config})')
        if stable:
            _publish(ckpt, key, stable)
        return ckpt
    t0 = time.time()
    data = osp.join(_abs(root), 'data', 'synthetic_objects_pretrain'
                    if params.get('objects') == 'shapes' else
                    'synthetic_fgvc_pretrain')
    if not synthetic_fgvc_is_complete(data, **params):
        make_synthetic_fgvc(data, **params)
        log(f'pretrain: generated the pretraining set into {data} '
            f'({time.time() - t0:.1f} s)')
    train_dir = osp.join(out, 'train')
    os.makedirs(train_dir, exist_ok=True)
    cfg = pretrain_config(data, config)
    cfg_path = osp.join(out, osp.basename(config))
    cfg.dump(cfg_path)
    from .runs import run_env, train_command
    resume = bool(glob.glob(osp.join(train_dir, 'epoch_*.pth')))
    cmd = train_command(cfg_path, train_dir, resume, 0)
    env = run_env(threads or len(os.sched_getaffinity(0)))
    log(f'pretrain: training {config} ({cfg.train_cfg.max_epochs} epochs) '
        f'into {train_dir}, log {train_dir}/train.log')
    with open(osp.join(train_dir, 'train.log'), 'a') as f:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f'pretrain: training failed (exit '
                           f'{proc.returncode}), see {train_dir}/train.log')
    last = osp.join(train_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    if not osp.isfile(last):
        raise RuntimeError(f'pretrain: {last} missing after training')
    with open(osp.join(out, 'pretrained.json'), 'w') as f:
        json.dump(_backbone_record(cfg), f, indent=1)
    tmp = ckpt + '.tmp'
    shutil.copyfile(last, tmp)
    os.replace(tmp, ckpt)  # written last: its presence means "done"
    log(f'pretrain: wrote {ckpt} in {time.time() - t0:.0f} s')
    if stable:
        _publish(ckpt, key, stable)
    return ckpt


def export_backbone(ckpt: str, out: str, config: str) -> str:
    """Write the ``backbone.*`` weights of the pretrained checkpoint
    ``ckpt`` to the new file ``out`` (``state_dict`` + ``meta`` naming the
    config, the cache key and the source's SHA-256): the file a config
    loads with ``init_cfg=dict(type='Pretrained', checkpoint=out,
    prefix='backbone')``, as the quickstart loads the one shipped in
    ``checkpoints/``. ``out`` must not exist (nothing is overwritten)."""
    import io

    import torch

    from projects.fgvc_aam.engine import load_checkpoint_file
    from projects.fgvc_aam.utils.no_follow import write_new_file
    state = load_checkpoint_file(ckpt, map_location='cpu')['state_dict']
    with open(ckpt, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    buf = io.BytesIO()
    torch.save(dict(
        state_dict={k: v for k, v in state.items()
                    if k.startswith('backbone.')},
        meta=dict(config=config, cache_key=osp.basename(osp.dirname(ckpt)),
                  source_sha256=digest)), buf)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    write_new_file(out, buf.getvalue())
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default=DEFAULT_ROOT,
                   help='cache folder (data, runs, checkpoints)')
    p.add_argument('--objects', action='store_true',
                   help='the object-centric pretraining of the mechanism '
                   'study (OBJECTS_PRETRAIN_PARAMS, its config and path)')
    p.add_argument('--config', default=None,
                   help=f'default: {PRETRAIN_CONFIG} ({OBJECTS_CONFIG} '
                   'with --objects)')
    p.add_argument('--stable-path', default=None,
                   help="the fine-tuning configs' checkpoint path ('' for "
                   f'none; default: {STABLE_PATH}, or {OBJECTS_STABLE_PATH} '
                   'with --objects)')
    p.add_argument('--threads', type=int)
    p.add_argument('--export-backbone', metavar='OUT',
                   help='also write the backbone weights alone to this new '
                   'file (how checkpoints/ was made)')
    p.add_argument('--dry-run', action='store_true',
                   help='print the cache key and path, train nothing')
    args = p.parse_args(argv)
    from ..synthetic_fgvc import OBJECTS_PRETRAIN_PARAMS, PRETRAIN_PARAMS
    config = args.config or (OBJECTS_CONFIG if args.objects
                             else PRETRAIN_CONFIG)
    params = OBJECTS_PRETRAIN_PARAMS if args.objects else PRETRAIN_PARAMS
    stable = args.stable_path if args.stable_path is not None else (
        OBJECTS_STABLE_PATH if args.objects else STABLE_PATH)
    if args.dry_run:
        path, done = cached_checkpoint(args.root, config, params)
        print(f'{path} ({"cached" if done else "not trained yet"})')
        return 0
    ckpt = ensure_pretrained(args.root, config, params,
                             stable=stable or None, threads=args.threads)
    if args.export_backbone:
        export_backbone(ckpt, args.export_backbone, config)
        print(f'pretrain: wrote the backbone of {ckpt} to '
              f'{args.export_backbone}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The flags of ``tools/train.py`` and ``tools/test.py`` (MMPretrain's own,
nothing added) checked before any work starts, and the test run's own
output folder.

A bad flag ends the tool with ``SystemExit`` naming the flag, the value
and what is wrong, before a config is loaded or a folder is made:
missing config or checkpoint file, a work dir that is a file, an ``--out``
whose folder is missing, that exists already (never overwritten) or whose
extension MMPretrain cannot write (``--out-item pred``, the default:
``DumpResults`` takes ``.pkl``/``.pickle``; ``--out-item metrics``:
``mmengine.dump`` takes ``.json``/``.yaml``/``.yml``/``.pkl``/``.pickle``).
"""
import os
import os.path as osp
import time
from argparse import Namespace

from projects.fgvc_aam_hardening.runtime_setup import \
    main_rank_from_launcher_env

PRED_SUFFIXES = ('.pkl', '.pickle')
METRIC_SUFFIXES = ('.json', '.yaml', '.yml', '.pkl', '.pickle')


def _fail(tool: str, msg: str) -> None:
    raise SystemExit(f'{tool}: error: {msg}')


def _check_file(tool: str, flag: str, path: str) -> None:
    if '://' not in path and not osp.isfile(path):
        _fail(tool, f'{flag} {path!r}: no such file')


def _check_folder(tool: str, flag: str, path) -> None:
    if path is not None and osp.exists(path) and not osp.isdir(path):
        _fail(tool, f'{flag} {path!r} exists and is not a folder')


def check_train_args(args: Namespace) -> Namespace:
    """Check the parsed flags of ``tools/train.py``; returns them."""
    tool = 'tools/train.py'
    _check_file(tool, 'config', args.config)
    _check_folder(tool, '--work-dir', args.work_dir)
    if args.resume not in (None, 'auto'):
        _check_file(tool, '--resume', args.resume)
    return args


def check_test_args(args: Namespace) -> Namespace:
    """Check the parsed flags of ``tools/test.py``; returns them."""
    tool = 'tools/test.py'
    _check_file(tool, 'config', args.config)
    _check_file(tool, 'checkpoint', args.checkpoint)
    _check_folder(tool, '--work-dir', args.work_dir)
    _check_folder(tool, '--show-dir', args.show_dir)
    if args.out is None:
        if args.out_item is not None:
            _fail(tool, f'--out-item {args.out_item} needs --out FILE')
        return args
    item = args.out_item or 'pred'
    suffixes = METRIC_SUFFIXES if item == 'metrics' else PRED_SUFFIXES
    if not args.out.lower().endswith(suffixes):
        _fail(tool, f'--out {args.out!r}: --out-item {item} is written as '
              f'{" / ".join(suffixes)}, not '
              f'{osp.splitext(args.out)[1] or "a file without extension"}')
    folder = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(folder):
        _fail(tool, f'--out {args.out!r}: folder {folder!r} does not exist')
    if osp.lexists(args.out):
        _fail(tool, f'--out {args.out!r} exists; tools/test.py never '
              'overwrites a file: choose a new name')
    return args


def new_test_folder(work_dir: str, launcher: str = 'none') -> str:
    """A new folder ``work_dir/test_<timestamp>`` for one test run, so a
    test never writes over a training's files in ``work_dir`` (its saved
    config, logs, metrics). Rank 0 creates it; the other ranks of a
    data-parallel run get its name from rank 0 once the process group is
    up (else they compute the same timestamp)."""
    import torch.distributed as dist
    name = [time.strftime('test_%Y%m%d_%H%M%S')]
    if main_rank_from_launcher_env(launcher):
        os.makedirs(work_dir, exist_ok=True)
        path = osp.join(work_dir, name[0])
        if osp.lexists(path):  # two tests in the same second
            name[0] += f'_{os.getpid()}'
        os.mkdir(osp.join(work_dir, name[0]))
    if dist.is_available() and dist.is_initialized():
        dist.broadcast_object_list(name, src=0)
    return osp.join(work_dir, name[0])

"""What ``tools/train.py`` and ``tools/test.py`` do on top of MMPretrain's.

Our tools reuse MMPretrain's own argument parsing and config merging (the
``tools/`` that ship inside the ``mmpretrain`` package under ``.mim``), so
they take exactly the same flags, and add the fixes this stack needs:

- ``num_workers=0`` with the ``persistent_workers=True`` that MMPretrain's
  ``merge_args`` forces makes PyTorch's DataLoader raise; we turn it off
  where there are no workers;
- CPU data-parallel runs (see :func:`setup_cpu_distributed`);
- a fresh (not resumed) run in a work dir that already holds checkpoints
  would silently overwrite them (``epoch_1.pth`` ...): we refuse instead.
"""
import glob
import importlib.util
import os.path as osp
from types import ModuleType

from mmengine.config import Config

from .distributed import setup_cpu_distributed

DATALOADER_FIELDS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load_mmpretrain_tool(name: str) -> ModuleType:
    """Import ``mmpretrain/.mim/tools/{name}.py`` (e.g. ``'train'``)."""
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain tool {path!r} not found: fgvc_aam reuses the tools '
            'shipped in the mmpretrain package (install mmpretrain 1.2.x '
            'from a wheel or with `pip install -e` of its repository).')
    spec = importlib.util.spec_from_file_location(
        f'mmpretrain_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def disable_persistent_workers_without_workers(cfg: Config) -> None:
    """Set ``persistent_workers=False`` on dataloaders with no workers."""
    for field in DATALOADER_FIELDS:
        loader = cfg.get(field)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False


def refuse_to_overwrite_checkpoints(cfg: Config) -> None:
    """Raise if a fresh training run would overwrite existing checkpoints."""
    work_dir = cfg.get('work_dir')
    if not work_dir or cfg.get('resume', False):
        return
    existing = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    if existing:
        names = ', '.join(osp.basename(p) for p in existing[:5])
        raise FileExistsError(
            f'work dir {work_dir!r} already holds checkpoints ({names}); a '
            'new run would overwrite them. Pass --resume to continue that '
            'run, or choose another --work-dir.')


def prepare_runtime(cfg: Config, training: bool = True) -> Config:
    """Apply every fix above to a merged config, in place; returns it."""
    if training:
        refuse_to_overwrite_checkpoints(cfg)
    disable_persistent_workers_without_workers(cfg)
    setup_cpu_distributed(cfg)
    return cfg

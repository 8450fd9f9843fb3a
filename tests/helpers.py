"""What the tests share: paths, subprocess runs of the tools, tiny data
trees and checkpoints, file-tree snapshots, log readers, independent
oracles, a toy data set and runner, and the test-only hooks.

Import it as ``from tests.helpers import ...`` (``tests`` is a package;
pytest puts the repository root on ``sys.path``). Fixtures are in
``tests/conftest.py``.
"""
import copy
import glob
import hashlib
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import time
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = 'tests/configs/tiny_softmax_synthetic.py'

# Parameters of the tiny data set of the ``synthetic_root`` fixture (about
# 0.1 s to make).
TINY_SYNTHETIC = dict(
    num_classes=4,
    images_per_class=6,
    train_per_class=4,
    image_size=64,
    seed=0,
)


def two_branch_model_names() -> List[str]:
    """Sorted names of every model named ``*two-branch*`` in the metafiles
    that model-index.yml imports."""
    import yaml
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    names = []
    for path in metafiles:
        with open(osp.join(ROOT, path)) as f:
            names += [m['Name'] for m in yaml.safe_load(f)['Models']
                      if 'two-branch' in m['Name']]
    return sorted(names)


#: configs parsed by :func:`load_config`, by absolute path
_PARSED_CONFIGS: dict = {}


def load_config(path: str):
    """``Config.fromfile`` of a repository config (``path`` relative to the
    repository root, or absolute), parsed once per test run: each call
    returns a deep copy of that one parse, so a test may change what it
    gets without affecting any other test.

    Only for files no test writes (``configs/``, ``tests/configs/``): a
    file changed during the run would not be read again."""
    from mmengine.config import Config
    full = osp.abspath(osp.join(ROOT, path))
    if full not in _PARSED_CONFIGS:
        _PARSED_CONFIGS[full] = Config.fromfile(full)
    return copy.deepcopy(_PARSED_CONFIGS[full])


def load_tool(path: str):
    """A script under tools/ (``path`` relative to the repository),
    imported as a module for in-process tests."""
    import importlib.util
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------- tools in subprocesses
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def link_into_new_work_dir(tmp_path, kind: str, name: str):
    """A user's file ``users_file.txt`` ('precious') and a new work dir
    holding a ``kind`` ('symlink' or 'hardlink') to it named ``name``;
    returns (the user's file, the work dir), both ``pathlib.Path``."""
    victim = tmp_path / 'users_file.txt'
    victim.write_text('precious')
    work = tmp_path / 'work'
    work.mkdir()
    plant = os.symlink if kind == 'symlink' else os.link
    plant(str(victim), str(work / name))
    return victim, work


def data_options(root: str, num_classes: int) -> List[str]:
    """--cfg-options pointing a config at a data root with N classes."""
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')] + [
                f'model.head.num_classes={num_classes}',
                f'data_preprocessor.num_classes={num_classes}',
            ]


def run(cmd: List[str],
        env: Optional[Dict[str, str]] = None,
        timeout: int = 600,
        check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable,
                    OMP_NUM_THREADS='1', **(env or {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(cmd)} exited {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-4000:]}\n'
            f'--- stderr ---\n{proc.stderr[-4000:]}')
    return proc


def python_tool(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run([sys.executable, *args], **kwargs)


def tool_env(**extra: str) -> Dict[str, str]:
    """Environment of a tool subprocess: one intra-op thread, unbuffered
    output, this checkout importable (``projects`` and ``tests``), plus
    ``extra`` variables (e.g. ``PORT`` of tools/dist_train.sh)."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable,
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(cmd: List[str], log: str, **env_kwargs) -> subprocess.Popen:
    """Start ``cmd`` in the repository root, stdout + stderr to ``log``;
    ``env_kwargs`` go to :func:`tool_env`."""
    out = open(log, 'w')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=tool_env(**env_kwargs),
                            stdout=out, stderr=subprocess.STDOUT)
    proc.log_path = log
    out.close()
    return proc


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    """Wait for ``proc``; raise with the end of its log unless it exited 0.
    Returns the log."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with open(proc.log_path) as f:
        log = f.read()
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, proc.args))} exited '
                             f'{proc.returncode}\n{log[-5000:]}')
    return log


def write_hook_config(path: str, base: str, hooks: list,
                      imports: Sequence[str] = ('projects.fgvc_aam',
                                                'tests.helpers'),
                      extra: str = '') -> str:
    """Write a config file at ``path`` that inherits ``base`` (relative to
    the repository root, or absolute), imports ``imports`` (by default the
    package and the test-only hooks below) and replaces its custom hooks
    with ``hooks``; ``extra`` is appended. Returns ``path``."""
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.join(ROOT, base)!r}]\n'
                f'custom_imports = dict(imports={list(imports)!r}, '
                'allow_failed_imports=False)\n'
                f'custom_hooks = {hooks!r}\n{extra}')
    return str(path)


def train_cmd(config: str, work_dir: str, *extra: str) -> List[str]:
    return [sys.executable, 'tools/train.py', config, '--work-dir',
            str(work_dir), *extra]


# ------------------------------------------------------- data and files
def root_and_classes(root: str) -> Tuple[str, int]:
    """A CUB-layout data root (e.g. the ``synthetic_root`` fixture) as
    ``(path, number of classes in its classes.txt)``."""
    with open(osp.join(root, 'classes.txt')) as f:
        return str(root), sum(1 for line in f if line.strip())


def class_names(root: str) -> List[str]:
    """Class names of a CUB-layout data root (``classes.txt``)."""
    with open(f'{root}/classes.txt') as f:
        return [line.split(maxsplit=1)[1].strip() for line in f
                if line.strip()]


def write_cub_tree(root: str,
                   items: Sequence[Tuple[Tuple[int, int], Tuple[float, ...],
                                         int, int]],
                   num_classes: int,
                   color=(255, 0, 0)) -> str:
    """Write a CUB-layout tree of PNG images with one filled rectangle.

    Args:
        root: target folder.
        items: per image ``((width, height), (x, y, w, h) box, label 0-based,
            is_train)``; the rectangle is drawn on black, filling exactly the
            integer box ``[x, x + w) x [y, y + h)`` in ``color`` (RGB).
        num_classes: number of classes written to ``classes.txt``.
    """
    from PIL import Image
    os.makedirs(root, exist_ok=True)
    names = [f'{c + 1:03d}.Class_{c + 1}' for c in range(num_classes)]
    lines: Dict[str, List[str]] = {k: [] for k in (
        'images', 'labels', 'split', 'boxes')}
    for i, ((w, h), (x, y, bw, bh), label, is_train) in enumerate(items, 1):
        img = np.zeros((h, w, 3), np.uint8)
        img[int(y):int(y + bh), int(x):int(x + bw)] = color
        rel = f'{names[label]}/img_{i:03d}.png'
        os.makedirs(osp.join(root, 'images', names[label]), exist_ok=True)
        Image.fromarray(img).save(osp.join(root, 'images', rel))
        lines['images'].append(f'{i} {rel}')
        lines['labels'].append(f'{i} {label + 1}')
        lines['split'].append(f'{i} {int(is_train)}')
        lines['boxes'].append(f'{i} {x} {y} {bw} {bh}')
    for fname, key in (('images.txt', 'images'),
                       ('image_class_labels.txt', 'labels'),
                       ('train_test_split.txt', 'split'),
                       ('bounding_boxes.txt', 'boxes')):
        with open(osp.join(root, fname), 'w') as f:
            f.write('\n'.join(lines[key]) + '\n')
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(f'{i + 1} {n}' for i, n in enumerate(names)) + '\n')
    return root


def read_lines(path: str) -> List[str]:
    with open(path) as f:
        return f.read().splitlines()


def write_lines(path: str, lines: Sequence[str]) -> None:
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def colour_box(img: np.ndarray, channel: int = 0,
               thresh: int = 128) -> np.ndarray:
    """Tight x1, y1, x2, y2 (exclusive) of the pixels whose ``channel`` is
    above ``thresh`` in an (H, W, C) or (C, H, W) array."""
    if img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = np.moveaxis(img, 0, -1)
    ys, xs = np.nonzero(img[..., channel] > thresh)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                    dtype=np.float64)


def snapshot(root: str) -> Dict[str, tuple]:
    """Every entry under ``root``: sha256 and mtime of files, ``'dir'`` for
    directories (so added, removed, rewritten or touched files show)."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            entries[osp.relpath(osp.join(dirpath, name), root)] = ('dir', )
        for name in filenames:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            entries[osp.relpath(path, root)] = (digest,
                                                os.stat(path).st_mtime_ns)
    return entries


def snapshot_files(root: str) -> List[str]:
    """The relative paths of the files (not folders) under ``root``,
    sorted."""
    return sorted(k for k, v in snapshot(root).items() if v != ('dir', ))


# ------------------------------------------------ checkpoints and logs
def write_random_checkpoint(config: str,
                            path: str,
                            cfg_options: Optional[dict] = None,
                            classes: Optional[Sequence[str]] = None,
                            seed: int = 0) -> str:
    """Build ``config``'s model (seeded), save it as mmengine does
    (``state_dict`` + ``meta.dataset_meta``) and return ``path``."""
    import projects.fgvc_aam  # noqa: F401
    from mmengine.config import Config
    from mmpretrain.apis import get_model
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = get_model(cfg)
    meta = {'dataset_meta': {'classes': list(classes)}} if classes else {}
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, path)
    return path


def load_checkpoint(path: str) -> dict:
    import projects.fgvc_aam  # noqa: F401  (allow-lists mmengine globals)
    return torch.load(path, map_location='cpu', weights_only=True)


def scalars(work_dir: str) -> List[List[dict]]:
    """Records of each run's ``vis_data/scalars.json`` in ``work_dir``,
    one list per run (oldest first)."""
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            runs.append([json.loads(line) for line in f if line.strip()])
    assert runs, f'no scalars.json under {work_dir}'
    return runs


def train_records(records: List[dict]) -> Dict[int, dict]:
    """Training-iteration records by global iteration."""
    return {r['step']: r for r in records if 'loss' in r}


def val_records(records: List[dict]) -> Dict[int, dict]:
    """Validation records by epoch."""
    return {r['step']: r for r in records if 'accuracy/top1' in r}


def assert_state_dicts_equal(a: dict, b: dict, what: str) -> None:
    """Same keys and bit-identical tensors."""
    assert a.keys() == b.keys(), what
    for key in a:
        assert torch.equal(a[key], b[key]), (
            f'{what}: {key} differs (max abs diff '
            f'{(a[key].double() - b[key].double()).abs().max().item():.3g})')


# ------------------------------------------------------------- oracles
#: feature magnitudes of the fuzz tests (localizer and margin heads)
MAGNITUDES = (1e-30, 1e-10, 1e-3, 1.0, 1e3, 1e10, 1e30)


def samples(labels) -> list:
    """One ``DataSample`` with ground-truth label per entry of ``labels``."""
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(int(t)) for t in labels]


def scipy_label(mask: np.ndarray, connectivity: int) -> Tuple[np.ndarray,
                                                              int]:
    """``scipy.ndimage.label`` of a 2-D boolean mask with 4- or
    8-connectivity: (labels numbered in raster order of their first cell,
    number of components)."""
    from scipy import ndimage
    structure = ndimage.generate_binary_structure(
        2, 1 if connectivity == 4 else 2)
    return ndimage.label(mask, structure=structure)


def oracle_box(mask: np.ndarray, img_shape, connectivity: int) -> np.ndarray:
    """The localizer's box written from its definition with scipy: the
    largest 8/4-connected component of the (H, W) boolean ``mask`` (among
    equally large ones, the one whose first cell in raster order comes
    first), its cell box scaled to an image of ``img_shape`` (h, w) in
    float32; the whole image when ``mask`` is empty."""
    height, width = mask.shape
    img_h, img_w = img_shape
    whole = np.array([0, 0, img_w, img_h], np.float32)
    lab, num = scipy_label(mask, connectivity)
    if num == 0:
        return whole
    flat = lab.ravel()
    best, best_key = None, None
    for k in range(1, num + 1):
        cells = np.flatnonzero(flat == k)
        key = (len(cells), -cells.min())
        if best_key is None or key > best_key:
            best, best_key = k, key
    ys, xs = np.nonzero(lab == best)
    cells = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    num_ = cells * np.array([img_w, img_h, img_w, img_h])
    den = np.array([width, height, width, height])
    return num_.astype(np.float32) / den.astype(np.float32)


def assert_valid_boxes(boxes: torch.Tensor, num: int, img_shape):
    """``num`` finite float32 boxes inside an image of ``img_shape`` (h, w)
    with ``x1 < x2`` and ``y1 < y2``."""
    img_h, img_w = img_shape
    assert boxes.shape == (num, 4) and boxes.dtype == torch.float32
    assert torch.isfinite(boxes).all()
    x1, y1, x2, y2 = boxes.unbind(1)
    assert (x1 >= 0).all() and (y1 >= 0).all()
    assert (x1 < x2).all() and (y1 < y2).all()
    assert (x2 <= img_w).all() and (y2 <= img_h).all()


# ------------------------------------------------- toy data and runner
class ToyDataset(torch.utils.data.Dataset):
    """``n`` grey 32x32 images in 3 classes (a bright quadrant per class),
    seeded."""

    metainfo = dict(classes=('a', 'b', 'c'))

    def __init__(self, n=12, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.labels = [i % 3 for i in range(n)]
        self.images = torch.rand(n, 1, 32, 32, generator=g) * 0.1
        for i, y in enumerate(self.labels):
            r, c = divmod(y, 2)
            self.images[i, 0, 16 * r:16 * r + 16, 16 * c:16 * c + 16] += 1

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from mmpretrain.structures import DataSample
        return dict(
            inputs=self.images[i],
            data_samples=DataSample().set_gt_label(self.labels[i]))

    def get_gt_labels(self):
        return np.array(self.labels)


def lenet_classifier(head: dict, num_classes: int = 3) -> dict:
    """Model config: LeNet5 + global average pooling + ``head``, for the
    1-channel 32x32 :class:`ToyDataset`."""
    return dict(
        type='ImageClassifier',
        backbone=dict(type='LeNet5'),
        neck=dict(type='GlobalAveragePooling'),
        head=head,
        data_preprocessor=dict(type='ClsDataPreprocessor',
                               num_classes=num_classes))


def toy_runner(work_dir, *, model: dict, name: str, dataset=None,
               sampler: str = 'DefaultSampler', batch_size: int = 4,
               load_from: Optional[str] = None, **kwargs):
    """An in-process mmengine Runner on :class:`ToyDataset` (no shuffling,
    no workers, seed 0, scope mmpretrain) that resumes from ``load_from``
    when given; ``kwargs`` go to ``Runner`` (optimizer, train_cfg,
    hooks...). Checkpoints are written as our configs write them
    (``PlainCheckpointHook``) and read as our tools read them
    (``use_safe_checkpoint_loader``)."""
    from mmengine.runner import Runner

    from projects.fgvc_aam.engine.checkpoint_loading import \
        use_safe_checkpoint_loader
    use_safe_checkpoint_loader()
    # plain checkpoints, as our configs write them (the safe loader refuses
    # plain mmengine's HistoryBuffer pickles)
    kwargs['custom_hooks'] = [*kwargs.get('custom_hooks', []),
                              dict(type='PlainCheckpointHook')]
    return Runner(
        model=model,
        work_dir=str(work_dir),
        experiment_name=f'{name}_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=dataset if dataset is not None else ToyDataset(),
            sampler=dict(type=sampler, shuffle=False),
            batch_size=batch_size,
            num_workers=0),
        default_scope='mmpretrain',
        randomness=dict(seed=0),
        load_from=load_from,
        resume=load_from is not None,
        **kwargs)


# --------------------------------------------------- test-only hooks
# Training subprocesses import them through
# ``custom_imports=dict(imports=['projects.fgvc_aam', 'tests.helpers'])``
# (tool_env puts the repository root on their PYTHONPATH); never used by
# the project.
@HOOKS.register_module()
class PauseAtIterHook(Hook):
    """After training iteration ``iteration`` (1-based, counted over the
    whole run) has been fully processed, write ``marker`` and sleep, so
    that a test can kill the process there with a real signal.

    It runs last (``LOWEST``), so the iteration's optimizer step, logging and
    the hooks of every other priority have happened; it touches no RNG and
    no training state.
    """

    priority = 'LOWEST'

    def __init__(self, iteration: int, marker: str,
                 seconds: float = 600.0) -> None:
        self.iteration = iteration
        self.marker = marker
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        # runner.iter is incremented after this hook: it is the 0-based
        # index of the iteration that just finished
        if runner.iter + 1 == self.iteration:
            with open(self.marker + '.tmp', 'w') as f:
                f.write(f'{runner.epoch + 1} {batch_idx + 1}\n')
            os.replace(self.marker + '.tmp', self.marker)
            time.sleep(self.seconds)


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """Kill this process with SIGKILL in the middle of writing a checkpoint.

    When a checkpoint file whose name starts with ``name`` (e.g.
    ``'epoch_2.pth'``) is written through mmengine's local file backend,
    half of its bytes are written and flushed, then the process sends
    itself SIGKILL: the state a kill (or a full disk) during a save leaves.
    """

    def __init__(self, name: str) -> None:
        import signal

        from mmengine.fileio import LocalBackend

        from projects.fgvc_aam_hardening.hooks.atomic_checkpoint_hook import \
            NoFollowLocalBackend

        def put_then_die(put):
            def put_half(backend, obj, filepath):
                if os.path.basename(str(filepath)).startswith(name):
                    with open(filepath, 'wb') as f:
                        f.write(obj[:len(obj) // 2])
                        f.flush()
                        os.fsync(f.fileno())
                    os.kill(os.getpid(), signal.SIGKILL)
                return put(backend, obj, filepath)
            return put_half

        # the atomic hook's temporary files go through the no-follow one
        for backend in (LocalBackend, NoFollowLocalBackend):
            backend.put = put_then_die(backend.put)

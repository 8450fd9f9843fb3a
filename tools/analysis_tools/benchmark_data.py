"""Rate of the CUB training pipeline per worker process, and the number of
DataLoader workers one GPU needs.

The pipeline is the ``train_pipeline`` of a dataset config (default
``configs/_base_/datasets/cub_bs8_448.py``: load, resize 600, box-aware
random crop 448, flip, pack with boxes), applied by our ``CUBWithBoxes`` to
JPEGs of CUB-200-2011's typical sizes (500x375, 500x333, 500x500, 375x500,
500x400), generated into a temporary folder by our synthetic-data generator
(textured backgrounds, quality 90). The images go through an ordinary
``torch.utils.data.DataLoader`` with ``--workers`` worker processes and
MMEngine's ``pseudo_collate``; the first batch (worker start-up) is not
timed.

workers needed = ceil(training images/s of the GPU / images/s per worker),
for each training rate in ``--train-json`` (a ``benchmark_train.py`` output)
and ``--gpu-images-per-s``. ``--per-worker cpu`` sizes with images per CPU
second instead (the rate of a worker with a core of its own; use it on a
shared machine, where wall-clock rates understate it).

    python tools/analysis_tools/benchmark_data.py --num-images 96 \
        --train-json work_dirs/benchmark_train.json --json data.json
"""
import argparse
import json
import math
import os
import os.path as osp
import resource
import tempfile
import time
from typing import Dict, List, Optional

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import cv2
import torch
from mmengine.config import Config
from mmengine.dataset import ConcatDataset, pseudo_collate
from mmpretrain.registry import DATASETS

import projects.fgvc_aam  # noqa: F401
from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from fgvc_aam_tools.synthetic_fgvc import make_synthetic_fgvc

# the repository: the benchmarked configs are read from it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# (width, height) of typical CUB-200-2011 images (longer side 500)
CUB_SIZES = ((500, 375), (500, 333), (500, 500), (375, 500), (500, 400))
DEFAULT_CONFIG = 'configs/_base_/datasets/cub_bs8_448.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='config whose train_dataloader.dataset.pipeline '
                        'is measured')
    parser.add_argument('--num-images', type=int, default=100,
                        help='generated images (spread over the CUB sizes)')
    parser.add_argument('--epochs', type=int, default=2,
                        help='passes over the images (after one warm-up '
                        'batch)')
    parser.add_argument('--workers', type=int, default=1,
                        help='DataLoader worker processes (0: main process)')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--train-json', nargs='*', default=[],
                        help='benchmark_train.py JSON file(s): workers '
                        'needed for each model\'s training images/s')
    parser.add_argument('--gpu-images-per-s', type=float, nargs='*',
                        default=[], help='further training rates to size')
    parser.add_argument('--per-worker', choices=('wall', 'cpu'),
                        default='wall', help='rate used to size workers: '
                        'images/s per worker, or images per CPU second')
    parser.add_argument('--json', default=None, metavar='OUT')
    return parser.parse_args(argv)


def make_images(root: str, num_images: int) -> List[str]:
    """Generated CUB-layout data sets, one per size; returns their roots."""
    # 2 classes per size; the train split holds `train` images of each
    train = max(1, math.ceil(num_images / len(CUB_SIZES) / 2))
    roots = []
    for i, (w, h) in enumerate(CUB_SIZES):
        sub = osp.join(root, f'{w}x{h}')
        make_synthetic_fgvc(sub, num_classes=2, images_per_class=train + 1,
                            train_per_class=train, image_size=(w, h),
                            jpeg_quality=90, seed=i)
        roots.append(sub)
    return roots


def build_dataset(config: str, roots: List[str]):
    cfg = Config.fromfile(osp.join(ROOT, config)
                          if not osp.isabs(config) else config)
    datasets = []
    for root in roots:
        ds = cfg.train_dataloader.dataset.to_dict()
        ds.update(data_root=root, split='train')
        datasets.append(DATASETS.build(ds))
    return ConcatDataset(datasets), cfg.train_dataloader.dataset.pipeline


def cpu_seconds(children: bool) -> float:
    """User + system CPU time of this process, or of its reaped children."""
    usage = resource.getrusage(
        resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(dataset, workers: int, batch: int, epochs: int) -> Dict:
    """Images/s through a DataLoader, after its first batch (wall time);
    and images per CPU second of the process(es) that ran the pipeline
    (the workers, reaped at the end, over their whole life)."""
    cpu_start = cpu_seconds(children=workers > 0)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch, shuffle=True, num_workers=workers,
        collate_fn=pseudo_collate, persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(0))
    images = total = 0
    start = shape = None
    for _ in range(epochs + 1):
        for data in loader:
            total += len(data['inputs'])
            if start is None:  # first batch: start-up, not timed
                start = time.perf_counter()
                cpu_first = cpu_seconds(children=False)
                shape = list(data['inputs'][0].shape)
                continue
            images += len(data['inputs'])
        if images >= epochs * len(dataset) - batch:
            break
    elapsed = time.perf_counter() - start
    if workers:
        del loader  # shuts the workers down, so their CPU time is counted
        cpu_rate = total / (cpu_seconds(children=True) - cpu_start)
    else:
        cpu_rate = images / (cpu_seconds(children=False) - cpu_first)
    rate = images / elapsed
    return dict(images=images, seconds=elapsed, images_per_s=rate,
                images_per_s_per_worker=rate / max(workers, 1),
                images_per_cpu_s=cpu_rate, output_shape=shape)


def workers_needed(rates: Dict[str, float], per_worker: float) -> Dict:
    return {name: dict(train_images_per_s=rate,
                       workers=math.ceil(rate / per_worker))
            for name, rate in rates.items()}


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    enable_caching_malloc()
    cv2.setNumThreads(0)  # as MMEngine's runner (mp_cfg.opencv_num_threads)
    with tempfile.TemporaryDirectory() as tmp:
        roots = make_images(tmp, args.num_images)
        dataset, pipeline = build_dataset(args.config, roots)
        sizes = [os.path.getsize(dataset.get_data_info(i)['img_path'])
                 for i in range(len(dataset))]
        result = measure(dataset, args.workers, args.batch, args.epochs)
    rates = {f'gpu_{r:g}': r for r in args.gpu_images_per_s}
    devices = {}
    for path in args.train_json:
        with open(path) as f:
            train = json.load(f)
        stem = osp.splitext(osp.basename(path))[0]
        devices[stem] = train.get('device')
        prefix = f'{stem}:' if len(args.train_json) > 1 else ''
        rates.update({prefix + name: m['train_images_per_s']
                      for name, m in train['models'].items()})
    result.update(
        config=args.config, pipeline=[t['type'] for t in pipeline],
        image_sizes=[list(s) for s in CUB_SIZES], num_images=len(dataset),
        mean_jpeg_kib=sum(sizes) / len(sizes) / 1024, workers=args.workers,
        cpu_threads=torch.get_num_threads(),
        train_json=args.train_json, train_devices=devices,
        per_worker_clock=args.per_worker,
        workers_needed=workers_needed(rates, result[
            'images_per_s_per_worker' if args.per_worker == 'wall' else
            'images_per_cpu_s']))
    print(f"{result['num_images']} JPEGs of CUB sizes (mean "
          f"{result['mean_jpeg_kib']:.0f} KiB), pipeline "
          f"{' -> '.join(result['pipeline'])}, output "
          f"{result['output_shape']}")
    print(f"{args.workers} worker(s): {result['images_per_s']:.1f} images/s"
          f" = {result['images_per_s_per_worker']:.1f} images/s per worker; "
          f"{result['images_per_cpu_s']:.1f} images per CPU second")
    for name, need in result['workers_needed'].items():
        print(f"  {name}: training at {need['train_images_per_s']:.1f} "
              f"images/s needs {need['workers']} worker(s)")
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()

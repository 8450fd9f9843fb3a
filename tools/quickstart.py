"""The main job on the embedded default data, end to end on CPU.

1. makes the synthetic fine-grained data set (CUB layout) if absent,
2. trains ``configs/quickstart.py`` with ``tools/train.py``,
3. tests the last checkpoint with ``tools/test.py``,
4. draws test images (one per class where the split allows) with the
   predicted and ground-truth boxes and class names
   (``tools/visualization/vis_localization.py``),
5. prints top-1 accuracy and where the checkpoint, logs, config and
   picture went.

    python tools/quickstart.py [--config C] [--work-dir W] [--data-root D]
        [--synthetic-args "ARGS"] [--cfg-options KEY=VALUE ...]

``--synthetic-args`` is one string of arguments for
``make_synthetic_fgvc.py`` (e.g. ``--synthetic-args="--num-classes 4"``);
``--cfg-options`` go to both ``tools/train.py`` and ``tools/test.py``.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run(cmd: list) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/quickstart.py')
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--data-root', default='data/synthetic_fgvc')
    parser.add_argument('--synthetic-args', default='',
                        help='extra arguments of make_synthetic_fgvc.py, '
                        'as one string')
    parser.add_argument('--cfg-options', nargs='*', default=[],
                        help='extra KEY=VALUE overrides of the config')
    args = parser.parse_args()

    start = time.time()
    run([sys.executable, 'tools/dataset_converters/make_synthetic_fgvc.py',
         '--out', args.data_root, *shlex.split(args.synthetic_args)])
    data_opt = [
        f'{split}_dataloader.dataset.data_root={args.data_root}'
        for split in ('train', 'val', 'test')
    ] + args.cfg_options
    # A rerun continues (or just re-tests) the run already in the work dir.
    resume = ['--resume'] if osp.isfile(
        osp.join(ROOT, args.work_dir, 'last_checkpoint')) else []
    run([sys.executable, 'tools/train.py', args.config,
         '--work-dir', args.work_dir, *resume, '--cfg-options', *data_opt])

    with open(osp.join(ROOT, args.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    # tools/test.py never overwrites: a rerun writes test_metrics_2.json...
    metrics_file, n = osp.join(args.work_dir, 'test_metrics.json'), 1
    while osp.lexists(osp.join(ROOT, metrics_file)):
        n += 1
        metrics_file = osp.join(args.work_dir, f'test_metrics_{n}.json')
    run([sys.executable, 'tools/test.py', args.config, checkpoint,
         '--work-dir', args.work_dir, '--out', metrics_file,
         '--out-item', 'metrics', '--cfg-options', *data_opt])
    with open(osp.join(ROOT, metrics_file)) as f:
        metrics = json.load(f)
    picture = osp.join(args.work_dir, 'test_images.png')
    run([sys.executable, 'tools/visualization/vis_localization.py',
         args.config, '--checkpoint', checkpoint, '--split', 'test',
         '--num', '16', '--out', picture, '--cfg-options', *data_opt])

    config_dump = osp.join(args.work_dir, osp.basename(args.config))
    print('\n========== quickstart summary ==========')
    for key, value in sorted(metrics.items()):  # MMPretrain's: percent
        print(f'{key + " (%)":<32} {value:.2f}' if isinstance(value, float)
              else f'{key:<32} {value}')
    print(f'{"top-1 accuracy (%)":<32} {metrics["accuracy/top1"]:.2f}')
    print(f'{"checkpoint":<32} {os.path.relpath(checkpoint, ROOT)}')
    print(f'{"logs":<32} {args.work_dir}/<timestamp>/')
    print(f'{"config":<32} {config_dump}')
    print(f'{"test metrics":<32} {metrics_file}')
    print(f'{"picture (test images, boxes)":<32} {picture}')
    print(f'{"wall time (s)":<32} {time.time() - start:.0f}')


if __name__ == '__main__':
    main()

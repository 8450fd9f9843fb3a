#!/usr/bin/env python
"""Generate the synthetic fine-grained data set (CUB-200-2011 layout).

Example::

    python tools/dataset_converters/make_synthetic_fgvc.py \
        --out data/synthetic_fgvc

Does nothing if ``--out`` already holds a complete data set made with the
same parameters (use ``--force`` to regenerate). Writes only into a new or
empty folder or one this generator made (it leaves a marker file); any other
folder (e.g. a real CUB-200-2011, or a symbolic link) is refused before a
byte is written. The set is written into a temporary sibling folder, ends
with a manifest (size and SHA-256 of every file) and is renamed into place
when complete: an interrupted run leaves the previous set as it was. The
user's own files in a folder it made are kept.
"""
import argparse
import sys
import time

# the generator needs only numpy and OpenCV, not MMPretrain
import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from fgvc_aam_tools.synthetic_fgvc import (DEFAULT_PARAMS, make_synthetic_fgvc,
                                           synthetic_fgvc_is_complete)


def parse_args(argv=None):
    d = DEFAULT_PARAMS
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='data/synthetic_fgvc',
                   help='output folder (default: %(default)s)')
    p.add_argument('--num-classes', type=int, default=d['num_classes'])
    p.add_argument('--images-per-class', type=int,
                   default=d['images_per_class'])
    p.add_argument('--train-per-class', type=int,
                   default=d['train_per_class'])
    p.add_argument('--image-size', type=int, nargs='+',
                   default=[d['image_size']],
                   help='side, or width height, in pixels')
    p.add_argument('--object-size-range', type=float, nargs=2,
                   default=list(d['object_size_range']),
                   metavar=('LO', 'HI'),
                   help='bird length as a fraction of the image side')
    p.add_argument('--max-rotation', type=float, default=d['max_rotation'],
                   help='maximal in-plane rotation (degrees)')
    p.add_argument('--clutter', type=float, default=d['clutter'],
                   help='background clutter in [0, 1]')
    p.add_argument('--jitter', type=float, default=d['jitter'],
                   help='intra-class variation in [0, 2]')
    p.add_argument('--jpeg-quality', type=int, default=d['jpeg_quality'])
    p.add_argument('--seed', type=int, default=d['seed'])
    p.add_argument('--force', action='store_true',
                   help='regenerate even if the data set is complete')
    args = p.parse_args(argv)
    if len(args.image_size) not in (1, 2):
        p.error('--image-size takes 1 (side) or 2 (width height) values')
    return args


def main(argv=None) -> str:
    args = parse_args(argv)
    size = args.image_size
    params = dict(
        num_classes=args.num_classes,
        images_per_class=args.images_per_class,
        train_per_class=args.train_per_class,
        image_size=size[0] if len(size) == 1 else tuple(size),
        object_size_range=tuple(args.object_size_range),
        max_rotation=args.max_rotation,
        clutter=args.clutter,
        jitter=args.jitter,
        jpeg_quality=args.jpeg_quality,
        seed=args.seed)
    if not args.force and synthetic_fgvc_is_complete(args.out, **params):
        print(f'{args.out}: complete synthetic data set found, skipping '
              '(use --force to regenerate)')
        return args.out
    t0 = time.time()
    try:
        make_synthetic_fgvc(args.out, **params)
    except FileExistsError as e:
        sys.exit(f'error: {e}')
    n = params['num_classes'] * params['images_per_class']
    print(f'{args.out}: wrote {n} images of {params["num_classes"]} classes '
          f'in {time.time() - t0:.1f} s')
    return args.out


if __name__ == '__main__':
    main()

"""Classify images and locate the object in each.

Prints, one JSON line per image, the predicted class index, its name, the
score, the ``--topk`` best classes and the object box ``bbox`` =
``[x1, y1, x2, y2]`` in the ORIGINAL image's pixels (the test pipeline's
resize and crop undone); with ``--out-file`` (one image) or ``--out-dir``
also draws the image with that box and the class.

    python demo/image_demo.py IMAGE|FOLDER [...] MODEL CHECKPOINT
        [--topk K] [--out-file PNG | --out-dir DIR] [--device cpu]
        [--cfg-options KEY=VALUE ...]

MODEL is a config file or a model name of our ``model-index.yml``
(``mmpretrain.list_models()``); a FOLDER stands for its image files
(sorted, not recursive). The score is ``softmax(s * cos)`` over the
classes (AAM / ArcFace heads): how much the model prefers this class to
the others, NOT a calibrated probability of being right. Images are read
in their stored pixel orientation (EXIF orientation not applied), as
``tools/test.py`` reads them. ``bbox`` is null for a model without a
localizer. Python users get the same through
``projects.fgvc_aam.apis.FGVCInferencer`` (``pred_bbox``).
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
from typing import List

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
# extensions cv2.imwrite can write
OUT_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', nargs='+',
                        help='image files and/or folders of images')
    parser.add_argument('model', help='config file or model name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--topk', type=int, default=1,
                        help='report the K best classes (default 1)')
    parser.add_argument('--out-file', default=None,
                        help='one image: write it with box and class here '
                        f'(extension one of {", ".join(OUT_EXTS)})')
    parser.add_argument('--out-dir', default=None,
                        help='write each image with box and class here as '
                        'NAME.png (NAME_1.png, ... if taken)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='KEY=VALUE overrides of the config')
    return parser.parse_args(argv)


def fail(message: str) -> None:
    """Exit with ``message`` after the running script's name."""
    sys.exit(f'{osp.basename(sys.argv[0])}: {message}')


def list_images(paths: List[str]) -> List[str]:
    """The image files of ``paths`` (a folder: its image files, sorted)."""
    images = []
    for path in paths:
        if osp.isdir(path):
            found = sorted(
                osp.join(path, f) for f in os.listdir(path)
                if f.lower().endswith(IMG_EXTS)
                and osp.isfile(osp.join(path, f)))
            if not found:
                fail(f'folder {path!r} holds no image '
                     f'({", ".join(IMG_EXTS)})')
            images += found
        elif osp.isfile(path):
            images.append(path)
        else:
            fail(f'image file {path!r} does not exist')
    return images


def check_args(args: argparse.Namespace) -> List[str]:
    """Every flag checked before any work; returns the image files."""
    images = list_images(args.img)
    if not osp.isfile(args.checkpoint):
        fail(f'checkpoint file {args.checkpoint!r} does not exist')
    if args.model.endswith('.py') and not osp.isfile(args.model):
        fail(f'config file {args.model!r} does not exist')
    if args.topk < 1:
        fail(f'--topk must be >= 1, got {args.topk}')
    if args.out_file and args.out_dir:
        fail('give --out-file (one image) or --out-dir, not both')
    if args.out_file:
        if len(images) != 1:
            fail(f'--out-file takes one image, got {len(images)}; use '
                 '--out-dir')
        if osp.splitext(args.out_file)[1].lower() not in OUT_EXTS:
            fail(f'--out-file {args.out_file!r}: the extension must be one '
                 f'of {", ".join(OUT_EXTS)}')
        if osp.lexists(args.out_file):
            fail(f'--out-file {args.out_file!r} exists; choose another name '
                 '(nothing was overwritten)')
    if args.out_dir and osp.exists(args.out_dir) and not osp.isdir(
            args.out_dir):
        fail(f'--out-dir {args.out_dir!r} is not a folder')
    return images


def build_inferencer(args: argparse.Namespace):
    """``FGVCInferencer`` of a config file or a model name."""
    from mmengine.config import Config

    import projects.fgvc_aam  # noqa: F401  (registers everything)
    from projects.fgvc_aam.apis import FGVCInferencer
    from projects.fgvc_aam_hardening.runtime_fixes import \
        allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # also read what plain mmengine wrote
    if osp.isfile(args.model):
        cfg = Config.fromfile(args.model)
    else:
        from mmpretrain.apis.model import ModelHub
        try:
            cfg = ModelHub.get(args.model).config
        except ValueError:
            fail(f'{args.model!r} is neither a config file nor a model '
                 'name of model-index.yml (see mmpretrain.list_models())')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return FGVCInferencer(cfg, pretrained=args.checkpoint,
                          device=args.device)


def to_json(image: str, result: dict, classes, topk: int) -> dict:
    """The printed record of one image."""
    import numpy as np
    scores = np.asarray(result['pred_scores'], dtype=np.float64)
    best = np.argsort(-scores, kind='stable')[:topk]
    out = dict(
        image=image,
        pred_label=int(result['pred_label']),
        pred_class=result.get('pred_class'),
        pred_score=round(float(result['pred_score']), 6),
        bbox=[round(v, 2) for v in result['pred_bbox']]
        if 'pred_bbox' in result else None)
    if topk > 1:
        out['topk'] = [
            dict(pred_label=int(k),
                 pred_class=str(classes[k]) if classes else None,
                 pred_score=round(float(scores[k]), 6)) for k in best
        ]
    if 'out_file' in result:
        out['out_file'] = result['out_file']
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    images = check_args(args)
    # stdout carries the JSON only: mmengine's and rich's messages go to
    # stderr
    with contextlib.redirect_stdout(sys.stderr):
        inferencer = build_inferencer(args)
        results = inferencer(images, show_dir=args.out_dir)
    for image, result in zip(images, results):
        out = to_json(image, result, inferencer.classes, args.topk)
        if args.out_file:
            write_drawing(image, out, args.out_file)
        print(json.dumps(out), flush=True)


def write_drawing(image: str, out: dict, out_file: str) -> None:
    """``image`` with box and class, to the new file ``out_file``."""
    import cv2

    from projects.fgvc_aam.apis import draw_prediction, read_image
    name = out['pred_class'] or str(out['pred_label'])
    drawn = draw_prediction(read_image(image),
                            f'{name} {out["pred_score"]:.2f}', out['bbox'])
    ok, data = cv2.imencode(osp.splitext(out_file)[1], drawn)
    if not ok:
        fail(f'could not encode the drawing for {out_file!r}')
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'xb') as f:  # never over an existing file
        f.write(data.tobytes())
    out['out_file'] = out_file


if __name__ == '__main__':
    main()

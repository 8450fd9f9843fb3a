"""Classify one image and locate the object in it.

Prints, as JSON, the predicted class index, its name, the score and the
object box ``bbox`` = ``[x1, y1, x2, y2]`` in the ORIGINAL image's pixels
(the test pipeline's resize and crop undone); with ``--out-file`` also
draws the image with that box and the class.

    python demo/image_demo.py IMAGE CONFIG CHECKPOINT [--out-file PNG]
        [--device cpu] [--cfg-options KEY=VALUE ...]

``bbox`` is null for a model without a localizer. Python users get the same
through ``projects.fgvc_aam.apis.FGVCInferencer`` (``pred_bbox``).
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401


def parse_args() -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', default=None,
                        help='write the image with box and class here (PNG)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='KEY=VALUE overrides of the config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for path, what in ((args.img, 'image'), (args.config, 'config'),
                       (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            sys.exit(f'image_demo.py: {what} file {path!r} does not exist')
    if args.out_file and osp.exists(args.out_file):
        sys.exit(f'image_demo.py: --out-file {args.out_file!r} exists; '
                 'choose another name (nothing was overwritten)')
    import cv2
    from mmengine.config import Config

    import projects.fgvc_aam  # noqa: F401  (registers everything)
    from fgvc_aam_tools.runtime_fixes import allow_mmengine_checkpoints
    from projects.fgvc_aam.apis import FGVCInferencer, draw_prediction
    allow_mmengine_checkpoints()  # also read what plain mmengine wrote
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # stdout carries the JSON only: mmengine's and rich's messages go to
    # stderr
    with contextlib.redirect_stdout(sys.stderr):
        inferencer = FGVCInferencer(cfg, pretrained=args.checkpoint,
                                    device=args.device)
        result = inferencer(args.img)[0]
    out = dict(
        image=args.img,
        pred_label=int(result['pred_label']),
        pred_class=result.get('pred_class'),
        pred_score=round(float(result['pred_score']), 6),
        bbox=[round(v, 2) for v in result['pred_bbox']]
        if 'pred_bbox' in result else None)
    if args.out_file:
        img = cv2.imread(args.img)
        name = out['pred_class'] or str(out['pred_label'])
        drawn = draw_prediction(img, f'{name} {out["pred_score"]:.2f}',
                                out['bbox'])
        os.makedirs(osp.dirname(osp.abspath(args.out_file)), exist_ok=True)
        if not cv2.imwrite(args.out_file, drawn):
            sys.exit(f'image_demo.py: could not write {args.out_file!r}')
        out['out_file'] = args.out_file
    print(json.dumps(out))


if __name__ == '__main__':
    main()

"""Does the top-class cosine tell in-domain from out-of-domain images?

For a margin-head model (ArcFace / AAM), the evaluation logits are
``s * cos(theta_j)`` (two-branch ``'sum'``: raw + object); the score the
demo prints is their softmax. This tool measures, on the synthetic data
set, the AUROC of two "is this a known class" signals -- the top-class
cosine and the top softmax score -- for in-domain test images against
out-of-domain images it generates itself (no download):

- ``unseen-classes``: birds of the generator's classes 16-63 (a crest or a
  long beak; same rendering, no class in common with classes 0-15);
- ``background``: the generator's scenes with the bird left out;
- ``noise``: uniform RGB noise;
- ``smooth``: blurred colour noise.

AUROC 0.5 = no separation, 1.0 = every in-domain image scores higher.

    python tools/analysis_tools/ood_cosine_auroc.py CONFIG CHECKPOINT \\
        --data-root data/synthetic_fgvc [--num 200] [--out-json ood.json]
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Dict, List

import numpy as np
import torch

import fgvc_aam_tools.quiet_warnings  # noqa: F401

OOD_KINDS = ('unseen-classes', 'background', 'noise', 'smooth')


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(pos > neg) + P(pos == neg) / 2 (the Mann-Whitney U statistic
    divided by ``len(pos) * len(neg)``)."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    greater = (pos[:, None] > neg[None, :]).sum()
    equal = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * equal) / (len(pos) * len(neg)))


def make_ood_images(kind: str, num: int, size: int, seed: int = 1234
                    ) -> List[np.ndarray]:
    """``num`` BGR uint8 images of ``kind`` (see the module docstring)."""
    import cv2

    from fgvc_aam_tools.synthetic_fgvc import image_rng, render_bird_image
    out = []
    for i in range(num):
        rng = np.random.default_rng([seed, OOD_KINDS.index(kind), i])
        if kind == 'unseen-classes':
            label = 16 + i % 48
            img, _ = render_bird_image(label, image_rng(seed, label, i),
                                       image_size=size)
        elif kind == 'background':
            img, _ = render_bird_image(i % 16, image_rng(seed, 0, i),
                                       image_size=size, draw_object=False)
        elif kind == 'noise':
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        elif kind == 'smooth':
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            img = cv2.GaussianBlur(img, (0, 0), size / 16)
            img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX)
        else:
            raise ValueError(f'unknown kind {kind!r}; one of {OOD_KINDS}')
        out.append(np.ascontiguousarray(img, dtype=np.uint8))
    return out


@torch.no_grad()
def signals(model: torch.nn.Module, items: list, batch: int = 32
            ) -> Dict[str, np.ndarray]:
    """Top-class cosine and top softmax score of each packed item."""
    from fgvc_aam_tools.visualization import batch_of
    from projects.fgvc_aam.apis import cosine_scale
    scale = cosine_scale(model)
    if scale is None:
        raise ValueError('the model has no cosine (margin) head')
    cos, score = [], []
    for start in range(0, len(items), batch):
        inputs, _, _ = batch_of(model, items[start:start + batch])
        logits = model(inputs, mode='tensor')
        cos.append((logits / scale).max(1).values)
        score.append(logits.softmax(1).max(1).values)
    return dict(cosine=torch.cat(cos).numpy(),
                score=torch.cat(score).numpy())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', required=True,
                        help='the synthetic data set the model was trained '
                        'on (its test split is the in-domain set)')
    parser.add_argument('--num', type=int, default=200,
                        help='images per set (default 200)')
    parser.add_argument('--out-json', default=None)
    args = parser.parse_args(argv)
    if args.num < 2:
        sys.exit(f'ood_cosine_auroc.py: --num must be >= 2, got {args.num}')
    if args.out_json and osp.exists(args.out_json):
        sys.exit(f'ood_cosine_auroc.py: --out-json {args.out_json!r} '
                 'exists (nothing was overwritten)')
    import cv2

    from fgvc_aam_tools.visualization import load_items, load_model
    opts = {f'{s}_dataloader.dataset.data_root': args.data_root
            for s in ('train', 'val', 'test')}
    cfg, model = load_model(args.config, args.checkpoint, cfg_options=opts)
    torch.manual_seed(0)
    items, _ = load_items(cfg, split='test', num=args.num)
    size = int(cv2.imread(items[0]['data_samples'].img_path).shape[0])
    report = dict(config=args.config, checkpoint=args.checkpoint,
                  in_domain=len(items))
    inside = signals(model, items)
    report['mean'] = {'in-domain': {k: float(v.mean())
                                    for k, v in inside.items()}}
    report['auroc'] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in OOD_KINDS:
            folder = osp.join(tmp, kind)
            os.makedirs(folder)
            for i, img in enumerate(make_ood_images(kind, args.num, size)):
                cv2.imwrite(osp.join(folder, f'{i:04d}.png'), img)
            outside = signals(model, load_items(cfg, img_dir=folder,
                                                num=args.num)[0])
            report['mean'][kind] = {k: float(v.mean())
                                    for k, v in outside.items()}
            report['auroc'][kind] = {
                k: round(auroc(inside[k], outside[k]), 4) for k in inside}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out_json:
        with open(args.out_json, 'x') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()

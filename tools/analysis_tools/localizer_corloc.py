"""Does the localizer find the object? CorLoc and mean IoU of a two-branch
config's box source, next to box baselines, on one split.

The precondition of the thesis's mechanism (the crop helps only if the box
is on the object), measured before any accuracy is read:

- ``model``: the config's localizer on its backbone. Without
  ``--checkpoint`` the backbone is the one its ``init_cfg`` loads (the
  pretrained backbone *before* fine-tuning); with it, the fine-tuned model.
- ``fixed box``: the one box, on a grid of ``--grid`` steps per side, with
  the highest CorLoc over the *train* split (ties: higher mean IoU).
- ``centre box``: the best box centred in the input, selected alike.
- ``whole image``: the input itself.

Boxes are in network-input pixels after the config's test pipeline; CorLoc
is the share of images with IoU >= 0.5 (percent)::

    python tools/analysis_tools/localizer_corloc.py CONFIG \
        [--checkpoint CKPT] [--split val|test] [--out corloc.json]

``--split val`` is the validation split the comparison carves from the
training images (20% of each class, seed 0); ``test`` the test split.
"""
import argparse
import os.path as osp
import sys
from copy import deepcopy
from typing import Dict, List, Optional, Sequence, Tuple

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import torch
from torchvision.ops import box_iou

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def corloc_miou(pred: torch.Tensor, gt: torch.Tensor,
                thr: float = 0.5) -> Tuple[float, float]:
    """(CorLoc %, mean IoU %) of boxes ``pred`` (N, 4) or (4,) (one box for
    every image) against ``gt`` (N, 4)."""
    pred = pred.expand_as(gt) if pred.dim() == 1 else pred
    iou = box_iou(pred.double(), gt.double()).diagonal()
    return float((iou >= thr).double().mean() * 100), float(iou.mean() * 100)


def best_fixed_box(gt: torch.Tensor, w: int, h: int, steps: int,
                   centred: bool = False) -> torch.Tensor:
    """The box on a ``steps`` x ``steps`` grid (or centred, of a grid
    size) with the highest CorLoc over ``gt``, then mean IoU."""
    xs = torch.linspace(0, w, steps + 1)
    ys = torch.linspace(0, h, steps + 1)
    cands = []
    if centred:
        for i in range(1, steps + 1):
            for j in range(1, steps + 1):
                bw, bh = float(xs[i]), float(ys[j])
                cands.append([(w - bw) / 2, (h - bh) / 2, (w + bw) / 2,
                              (h + bh) / 2])
    else:
        for a in range(steps):
            for b in range(a + 1, steps + 1):
                for c in range(steps):
                    for d in range(c + 1, steps + 1):
                        cands.append([float(xs[a]), float(ys[c]),
                                      float(xs[b]), float(ys[d])])
    cands = torch.tensor(cands, dtype=torch.float64)
    iou = box_iou(cands, gt.double())  # (K, N)
    score = (iou >= 0.5).double().mean(1) * 1e6 + iou.mean(1)
    return cands[int(score.argmax())]


def _runner_parts(config: str, split: str, cfg_options: Optional[dict]):
    from mmengine.config import Config

    from fgvc_aam_tools.compare.budget import carve_validation
    from fgvc_aam_tools.compare.plans import CARVE_FRACTION, CARVE_SEED
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.model.get('type') != 'TwoBranchClassifier':
        raise ValueError(f'{config}: model.type is {cfg.model.get("type")!r}'
                         '; the box source of a TwoBranchClassifier is '
                         'measured')
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    if split == 'val' and cfg.train_dataloader.dataset.get(
            'type') != 'CarvedSplit':  # else: a comparison run's effective
        carve_validation(cfg, CARVE_FRACTION, CARVE_SEED)  # config
    loaders = dict(eval=cfg[f'{split}_dataloader'])
    train = deepcopy(cfg.train_dataloader.to_dict())  # (carved) train part
    ds = train['dataset']
    inner = ds['dataset'] if ds.get('type') == 'CarvedSplit' else ds
    inner['pipeline'] = test_pipeline  # train boxes as the test sees them
    loaders['train'] = train
    return cfg, loaders


def _loader(cfg_loader) -> torch.utils.data.DataLoader:
    from mmengine.runner import Runner
    loader = dict(cfg_loader)
    loader.update(num_workers=0, persistent_workers=False, batch_size=32,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return Runner.build_dataloader(loader)


def measure(config: str, checkpoint: Optional[str] = None,
            split: str = 'val', grid: int = 12,
            cfg_options: Optional[dict] = None) -> Dict:
    """CorLoc / mIoU of the config's box source and of the baselines."""
    from mmengine.registry import init_default_scope
    from mmpretrain.apis import get_model

    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
    from projects.fgvc_aam.engine import (check_checkpoint_fits,
                                          load_checkpoint_file)
    from projects.fgvc_aam.models.localizers.ground_truth_box_localizer \
        import ground_truth_boxes
    cfg, loaders = _runner_parts(config, split, cfg_options)
    prepare_runtime(cfg, training=False)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))  # loaders
    model = get_model(cfg)  # with the config's data_preprocessor, as the
    # Runner builds it (the inputs' mean / std, BGR -> RGB)
    if checkpoint:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
        check_checkpoint_fits(model, ckpt, checkpoint)
        model.load_state_dict(ckpt.get('state_dict', ckpt))
    else:
        model.init_weights()  # the backbone's Pretrained init_cfg
    model.eval()

    def boxes_of(name: str, with_model: bool):
        gts: List[torch.Tensor] = []
        preds: List[torch.Tensor] = []
        size = None
        for batch in _loader(loaders[name]):
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
                inputs, samples = data['inputs'], data['data_samples']
                size = tuple(inputs.shape[-2:])
                gts.append(ground_truth_boxes(samples, len(samples),
                                              'localizer_corloc'))
                if with_model:
                    outs = model.backbone(inputs)
                    preds.append(model.localize(outs, inputs.shape[-2:],
                                                samples).float())
        return torch.cat(gts), (torch.cat(preds) if preds else None), size

    gt, pred, (h, w) = boxes_of('eval', True)
    train_gt, _, _ = boxes_of('train', False)
    fixed = best_fixed_box(train_gt, w, h, grid)
    centre = best_fixed_box(train_gt, w, h, grid, centred=True)
    rows = {
        'model': corloc_miou(pred, gt),
        'fixed box': corloc_miou(fixed, gt),
        'centre box': corloc_miou(centre, gt),
        'whole image': corloc_miou(torch.tensor([0., 0., w, h]), gt),
    }
    return dict(
        config=config, checkpoint=checkpoint, split=split, images=len(gt),
        input=[h, w], localizer=cfg.model.localizer.get('type'),
        fixed_box=fixed.tolist(), centre_box=centre.tolist(),
        rows={k: dict(corloc=v[0], miou=v[1]) for k, v in rows.items()})


def main(argv: Optional[Sequence[str]] = None) -> int:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--checkpoint', help='fine-tuned model (default: the '
                   "backbone of the config's init_cfg, before fine-tuning)")
    p.add_argument('--split', choices=['val', 'test'], default='val')
    p.add_argument('--grid', type=int, default=12,
                   help='grid steps per side of the fixed / centre boxes')
    p.add_argument('--out', help='also write the figures as JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    res = measure(args.config, args.checkpoint, args.split, args.grid,
                  args.cfg_options)
    print(f'{res["split"]} split, {res["images"]} images, input '
          f'{res["input"][1]}x{res["input"][0]}:')
    for name, r in res['rows'].items():
        print(f'  {name:12s} CorLoc {r["corloc"]:6.2f} %  mIoU '
              f'{r["miou"]:6.2f} %')
    if args.out:
        from fgvc_aam_tools.compare.results import write_result
        write_result(args.out, res)
    return 0


if __name__ == '__main__':
    sys.exit(main())

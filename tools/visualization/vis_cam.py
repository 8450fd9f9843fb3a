"""Grad-CAM (Selvaraju et al. 2017; thesis Fig. 25) of single- and
two-branch classifiers, with the current ``grad-cam`` package (1.5.x).

For each image: Grad-CAM of the raw branch on the backbone's last stage
(the class is the prediction, or ``--target-category``); for a
``TwoBranchClassifier`` also the predicted box on the raw image and the
Grad-CAM of the object branch on the crop it classifies. One grid PNG.

The model is built as ``tools/test.py`` builds it (the config's
``data_preprocessor``); titles: predicted class and score, ground-truth
class; boxes: predicted (white), ground truth (green) where known.

    python tools/visualization/vis_cam.py CONFIG [--checkpoint CKPT] \
        [--img-dir DIR | --split test] [--num 8] [--method gradcam] \
        [--target-layer backbone.layer4] [--out work_dirs/vis_cam.png]
"""
import argparse
import os
import os.path as osp

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import numpy as np
import torch
import torch.nn as nn

from fgvc_aam_tools.visualization import (batch_of, class_names, draw_box,
                                          grid_figure, label_of, load_items,
                                          load_model, predict, title_of)

try:
    import pytorch_grad_cam as cam
    from pytorch_grad_cam.utils.image import show_cam_on_image
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
except ImportError as e:  # pragma: no cover
    raise ImportError('vis_cam.py needs `pip install "grad-cam>=1.5"`') from e

METHODS = {
    'gradcam': cam.GradCAM,
    'gradcam++': cam.GradCAMPlusPlus,
    'xgradcam': cam.XGradCAM,
    'layercam': cam.LayerCAM,
    'eigencam': cam.EigenCAM,
    'hirescam': cam.HiResCAM,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', default=None)
    src = parser.add_mutually_exclusive_group()
    src.add_argument('--img-dir', default=None)
    src.add_argument('--split', default='test',
                     choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=8)
    parser.add_argument('--method', default='gradcam',
                        choices=sorted(METHODS))
    parser.add_argument('--target-layer', default=None,
                        help='module name, default: the backbone\'s last '
                        'stage (e.g. backbone.layer4 for ResNet)')
    parser.add_argument('--target-category', type=int, default=None,
                        help='class to explain (default: the prediction)')
    parser.add_argument('--out', default='work_dirs/vis_cam.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', default=None)
    return parser.parse_args()


class SingleBranch(nn.Module):
    """Logits of one backbone pass (the raw branch of a two-branch model,
    or a plain classifier): what Grad-CAM differentiates."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        from mmpretrain.models.classifiers import ImageClassifier
        feats = ImageClassifier.extract_feat(self.model, x)  # one pass
        return self.model.head(feats)


def last_stage(model, name=None) -> nn.Module:
    if name:
        return model.get_submodule(name)
    backbone = model.backbone
    if hasattr(backbone, 'res_layers'):  # MMPretrain ResNet family
        return getattr(backbone, backbone.res_layers[-1])
    children = [m for m in backbone.children()
                if any(True for _ in m.parameters())]
    if not children:
        raise ValueError('cannot guess the last stage; pass --target-layer')
    return children[-1]


def to_float_rgb(img: np.ndarray) -> np.ndarray:
    return np.clip(img.astype(np.float32) / 255., 0, 1)


def main():
    from mmengine.config import DictAction
    args = parse_args()
    opts = None
    if args.cfg_options:
        ns = argparse.Namespace()
        DictAction(option_strings=[], dest='x')(None, ns, args.cfg_options)
        opts = ns.x
    cfg, model = load_model(args.config, args.checkpoint, args.device, opts)
    items, meta = load_items(cfg, args.img_dir, args.split, args.num)
    inputs, samples, shown = batch_of(model, items)
    preds = predict(model, items)
    classes = class_names(model, meta)
    two_branch = hasattr(model, 'localizer') and hasattr(model, 'crop')

    wrapper = SingleBranch(model).eval()
    layer = last_stage(model, args.target_layer)
    method = METHODS[args.method]

    def explain(x):
        with torch.no_grad():
            logits = wrapper(x)
        labels = logits.argmax(1).tolist() if args.target_category is None \
            else [args.target_category] * len(x)
        targets = [ClassifierOutputTarget(c) for c in labels]
        with method(model=wrapper, target_layers=[layer]) as engine:
            return engine(input_tensor=x, targets=targets), labels

    raw_cams, raw_labels = explain(inputs)
    panels = 1
    if two_branch:
        with torch.no_grad():
            boxes = torch.cat([p.pred_bboxes for p in preds]).to(inputs)
            crops = model.crop(inputs, boxes)
        obj_cams, obj_labels = explain(crops)
        # display crops: the same crop of the display image
        from projects.fgvc_aam.models.classifiers import crop_and_resize
        shown_t = torch.from_numpy(np.stack(shown)).permute(0, 3, 1, 2)
        crop_shown = crop_and_resize(shown_t.float(), boxes.cpu(),
                                     tuple(crops.shape[-2:]))
        crop_shown = crop_shown.permute(0, 2, 3, 1).clamp(0, 255).numpy()
        panels = 2

    fig, axes = grid_figure(len(items), 2 if two_branch else 4, panels)
    for i in range(len(items)):
        ax = axes[i * panels]
        height, width = shown[i].shape[:2]
        ax.imshow(show_cam_on_image(to_float_rgb(shown[i]), raw_cams[i],
                                    use_rgb=True),
                  extent=(0, width, height, 0))
        ax.set_title(f'{title_of(preds[i], samples[i], classes)}\n'
                     f'CAM (raw) of {label_of(classes, raw_labels[i])}',
                     fontsize=8)
        gt = samples[i].get('gt_bboxes', None)
        if gt is not None and len(torch.as_tensor(gt).reshape(-1, 4)):
            draw_box(ax, torch.as_tensor(gt).reshape(-1, 4)[0], 'lime')
        if two_branch:
            draw_box(ax, boxes[i], 'white')
            ax2 = axes[i * panels + 1]
            ax2.imshow(show_cam_on_image(to_float_rgb(crop_shown[i]),
                                         obj_cams[i], use_rgb=True))
            ax2.set_title(
                f'CAM (object) of {label_of(classes, obj_labels[i])}',
                fontsize=8)
    fig.suptitle(f'{args.method} on {args.target_layer or "the last stage"}',
                 fontsize=9)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f'saved {len(items)} images ({"two" if two_branch else "one"}'
          f'-branch model) to {args.out}')


if __name__ == '__main__':
    main()

"""Grad-CAM (Selvaraju et al. 2017; thesis Fig. 25) of single- and
two-branch classifiers, with the current ``grad-cam`` package (1.5.x).

For each image: Grad-CAM of the raw branch on the backbone's last stage;
for a ``TwoBranchClassifier`` also the predicted box on the raw image and
the Grad-CAM of the object branch on the crop it classifies. Both explain
the SAME class, the one shown in the title: by default the model's final
prediction (what ``tools/test.py`` scores: for a two-branch model the class
of raw + object logits), or ``--target-class K``. One grid PNG, with a
labelled colour bar (the CAM is scaled to [0, 1] per image).

The model is built as ``tools/test.py`` builds it (the config's
``data_preprocessor``); titles: predicted class and score, ground-truth
class, the explained class; boxes: predicted (white), ground truth (green)
where known.

    python tools/visualization/vis_cam.py CONFIG [--checkpoint CKPT] \
        [--img-dir DIR | --split test] [--num 8] [--method gradcam] \
        [--target-class K] [--target-layer backbone.layer4] \
        [--out work_dirs/vis_cam.png]
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


def parse_args(argv=None):
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
    parser.add_argument('--target-class', '--target-category', type=int,
                        default=None, dest='target_class',
                        help='class index to explain in every image '
                        '(default: the model\'s final prediction)')
    parser.add_argument('--out', default='work_dirs/vis_cam.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', default=None)
    return parser.parse_args(argv)


class SingleBranch(nn.Module):
    """Logits of one backbone pass (the raw branch of a two-branch model,
    or a plain classifier): what Grad-CAM differentiates."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        # one backbone pass: a two-branch model's extract_branch_feat (its
        # extract_feat would add the localizer and the object branch)
        extract = getattr(self.model, 'extract_branch_feat',
                          self.model.extract_feat)
        return self.model.head(extract(x))


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


CAM_LABEL = 'Grad-CAM weight (per image: 0 = none, 1 = strongest)'


def build_figure(args: argparse.Namespace):
    """The grid figure and, per image, the explained class (``targets``)
    and the model's final prediction (``predicted``)."""
    from mmengine.config import DictAction
    opts = None
    if args.cfg_options:
        ns = argparse.Namespace()
        DictAction(option_strings=[], dest='x')(None, ns, args.cfg_options)
        opts = ns.x
    cfg, model = load_model(args.config, args.checkpoint, args.device, opts)
    items, meta = load_items(cfg, args.img_dir, args.split, args.num)
    classes = class_names(model, meta)
    num_classes = getattr(model.head, 'num_classes', None)
    if args.target_class is not None and not (
            0 <= args.target_class < (num_classes or args.target_class + 1)):
        raise SystemExit(f'vis_cam.py: --target-class {args.target_class} '
                         f'is not a class index (0..{num_classes - 1})')
    inputs, samples, shown = batch_of(model, items)
    preds = predict(model, items)
    predicted = [int(p.pred_label) for p in preds]
    targets = predicted if args.target_class is None else [
        args.target_class] * len(items)
    two_branch = hasattr(model, 'localizer') and hasattr(model, 'crop')

    wrapper = SingleBranch(model).eval()
    layer = last_stage(model, args.target_layer)
    method = METHODS[args.method]

    def explain(x):
        cams = [ClassifierOutputTarget(c) for c in targets]
        with method(model=wrapper, target_layers=[layer]) as engine:
            return engine(input_tensor=x, targets=cams)

    raw_cams = explain(inputs)
    panels = 1
    if two_branch:
        with torch.no_grad():
            boxes = torch.cat([p.pred_bboxes for p in preds]).to(inputs)
            crops = model.crop(inputs, boxes)
        obj_cams = explain(crops)
        # display crops: the same crop of the display image
        from projects.fgvc_aam.models.classifiers import crop_and_resize
        shown_t = torch.from_numpy(np.stack(shown)).permute(0, 3, 1, 2)
        crop_shown = crop_and_resize(shown_t.float(), boxes.cpu(),
                                     tuple(crops.shape[-2:]))
        crop_shown = crop_shown.permute(0, 2, 3, 1).clamp(0, 255).numpy()
        panels = 2

    fig, axes = grid_figure(len(items), 2 if two_branch else 4, panels)
    # constrained layout: titles, panels and colour bar never overlap
    fig.set_layout_engine('constrained')
    for i in range(len(items)):
        ax = axes[i * panels]
        height, width = shown[i].shape[:2]
        ax.imshow(show_cam_on_image(to_float_rgb(shown[i]), raw_cams[i],
                                    use_rgb=True),
                  extent=(0, width, height, 0))
        what = 'prediction' if args.target_class is None else 'chosen'
        explained = wrap_title(
            f'Grad-CAM of {label_of(classes, targets[i])} ({what})')
        ax.set_title(f'{title_of(preds[i], samples[i], classes)}\n'
                     f'{explained}', fontsize=7)
        gt = samples[i].get('gt_bboxes', None)
        if gt is not None and len(torch.as_tensor(gt).reshape(-1, 4)):
            draw_box(ax, torch.as_tensor(gt).reshape(-1, 4)[0], 'lime',
                     (height, width))
        if two_branch:
            draw_box(ax, boxes[i], 'white', (height, width))
            ax2 = axes[i * panels + 1]
            ax2.imshow(show_cam_on_image(to_float_rgb(crop_shown[i]),
                                         obj_cams[i], use_rgb=True))
            ax2.set_title('object branch (the white box):\n' + explained,
                          fontsize=7)
    add_colour_bar(fig, axes)
    fig.suptitle(f'{args.method} on {args.target_layer or "the last stage"}',
                 fontsize=9)
    return fig, dict(targets=targets, predicted=predicted,
                     two_branch=two_branch, num=len(items))


def wrap_title(text: str, width: int = 34) -> str:
    import textwrap
    return '\n'.join(textwrap.wrap(text.replace('_', ' '), width))


def add_colour_bar(fig, axes) -> None:
    """One colour bar for all panels: OpenCV's JET map of
    ``show_cam_on_image``, labelled."""
    import matplotlib.cm as cm
    import matplotlib.colors as colors
    bar = fig.colorbar(
        cm.ScalarMappable(norm=colors.Normalize(0, 1), cmap='jet'),
        ax=list(axes), shrink=0.8, fraction=0.03, pad=0.01)
    bar.set_label(CAM_LABEL, fontsize=7)
    bar.ax.tick_params(labelsize=6)


def main(argv=None):
    args = parse_args(argv)
    fig, info = build_figure(args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100)
    kind = 'two' if info['two_branch'] else 'one'
    print(f'saved {info["num"]} images ({kind}-branch model) to {args.out}')


if __name__ == '__main__':
    main()

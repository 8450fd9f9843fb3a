"""Draw what the channel-aggregation localizer sees (thesis eqs. 47-48).

For images of a folder or of a dataset split (through the config's test
pipeline), one grid PNG with, per image: the channel-aggregation heatmap
``A`` over the image, the predicted box (red), the predicted class and
score and, when the sample carries them, the ground-truth class, box
(green) and their IoU. The model is built and run as ``tools/test.py``
does (config's ``data_preprocessor``, ``model.test_step``), so classes and
boxes are those of ``tools/test.py``. Works for
``TwoBranchClassifier`` (its own localizer) and for any classifier with a
CNN backbone (a default ``ChannelAggregationLocalizer`` on the last stage).

    python tools/visualization/vis_localization.py CONFIG \
        [--checkpoint CKPT] [--img-dir DIR | --split test] [--num 16] \
        [--out work_dirs/vis_localization.png] [--out-json per_image.json]
"""
import argparse
import json
import os
import os.path as osp

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import numpy as np
import torch
import torch.nn.functional as F

from fgvc_aam_tools.visualization import (batch_of, class_names, draw_box,
                                          grid_figure, label_of, load_items,
                                          load_model, predict, title_of)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', default=None,
                        help='weights (random init without)')
    src = parser.add_mutually_exclusive_group()
    src.add_argument('--img-dir', default=None, help='folder of images')
    src.add_argument('--split', default='test',
                     choices=['train', 'val', 'test'],
                     help='dataset split of the config (default test)')
    parser.add_argument('--num', type=int, default=16)
    parser.add_argument('--cols', type=int, default=4)
    parser.add_argument('--out', default='work_dirs/vis_localization.png')
    parser.add_argument('--out-json', default=None,
                        help='also write per image: path, predicted label, '
                        'class, score, box, ground truth (input pixels)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', default=None,
                        help='key=value overrides of the config')
    return parser.parse_args()


def parse_cfg_options(opts):
    if not opts:
        return None
    from mmengine.config import DictAction
    action = DictAction(option_strings=[], dest='x')
    ns = argparse.Namespace()
    action(None, ns, opts)
    return ns.x


@torch.no_grad()
def localize(model, inputs):
    """Aggregation maps A (N, H, W), masks M and boxes (N, 4), from the
    backbone outputs the localizer reads (``localizer_inputs``, the rule
    of ``TwoBranchClassifier``)."""
    from projects.fgvc_aam.models.localizers import (
        ChannelAggregationLocalizer, localizer_inputs)
    localizer = getattr(model, 'localizer', None)
    if localizer is None:
        localizer = ChannelAggregationLocalizer()
    feat, prev = localizer_inputs(localizer, model.backbone(inputs),
                                  'vis_localization.py')
    agg = localizer.aggregate(feat)
    mask, _ = localizer.object_mask(feat, prev)
    boxes = localizer(feat, tuple(inputs.shape[-2:]), prev_feat=prev)
    return agg, mask, boxes


def main():
    args = parse_args()
    cfg, model = load_model(args.config, args.checkpoint, args.device,
                            parse_cfg_options(args.cfg_options))
    items, meta = load_items(cfg, args.img_dir, args.split, args.num)
    inputs, samples, shown = batch_of(model, items)
    preds = predict(model, items)
    classes = class_names(model, meta)
    agg, mask, boxes = localize(model, inputs)
    if all('pred_bboxes' in p for p in preds):  # the model's own boxes
        boxes = torch.cat([p.pred_bboxes for p in preds]).to(boxes)
    height, width = inputs.shape[-2:]
    heat = F.interpolate(agg.unsqueeze(1).float(), size=(height, width),
                         mode='bilinear', align_corners=False).squeeze(1)
    mask_up = F.interpolate(mask.unsqueeze(1).float(), size=(height, width),
                            mode='nearest').squeeze(1)
    fig, axes = grid_figure(len(items), args.cols)
    from torchvision.ops import box_iou
    ious, records = [], []
    for i, ax in enumerate(axes[:len(items)]):
        ax.imshow(shown[i], extent=(0, shown[i].shape[1],
                                    shown[i].shape[0], 0))
        h = heat[i]
        h = (h - h.min()) / (h.max() - h.min()).clamp(min=1e-12)
        ax.imshow(h.cpu().numpy(), cmap='jet', alpha=0.45,
                  extent=(0, width, height, 0))
        if 0 < int(mask_up[i].sum()) < mask_up[i].numel():
            ax.contour(np.arange(width) + 0.5, np.arange(height) + 0.5,
                       mask_up[i].cpu().numpy(), levels=[0.5],
                       colors='white', linewidths=0.8)
        draw_box(ax, boxes[i], 'red', (height, width))
        title = title_of(preds[i], samples[i], classes)
        record = dict(
            img_path=samples[i].get('img_path'),
            pred_label=int(preds[i].pred_label),
            pred_class=label_of(classes, preds[i].pred_label),
            pred_score=float(preds[i].pred_score.max()),
            pred_bbox=[float(v) for v in boxes[i]])
        if 'gt_label' in samples[i]:
            record['gt_label'] = int(samples[i].gt_label)
        gt = samples[i].get('gt_bboxes', None)
        if gt is not None and len(torch.as_tensor(gt).reshape(-1, 4)):
            gt = torch.as_tensor(np.asarray(gt), dtype=torch.float32)
            gt = gt.reshape(-1, 4)
            draw_box(ax, gt[0], 'lime', (height, width))
            iou = float(box_iou(boxes[i:i + 1].cpu(), gt).max())
            ious.append(iou)
            title += f'\nbox IoU {iou:.2f}'
            record.update(gt_bbox=[float(v) for v in gt[0]], iou=iou)
        records.append(record)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        correct = record.get('gt_label') == record['pred_label']
        ax.set_title(title, fontsize=7,
                     color='darkgreen' if correct else 'black')
    fig.suptitle('channel aggregation A (heat), mask M (white), predicted '
                 'box (red), ground-truth box (green); title in green: '
                 'class predicted correctly', fontsize=9)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100)
    msg = f'saved {len(items)} images to {args.out}'
    if ious:
        corloc = float(np.mean(np.array(ious) >= 0.5)) * 100
        msg += f'; mean IoU {np.mean(ious) * 100:.2f}%, CorLoc {corloc:.2f}%'
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(records, f, indent=1)
        msg += f'; per-image results in {args.out_json}'
    print(msg)


if __name__ == '__main__':
    main()

"""Cost of the thesis model's localization, measured in one run.

Prints
  (a) two-branch training step time / single-branch step time (same ResNet,
      input size and batch; the floor is about 2.0: two backbone passes),
  (b) the localizer's share of the two-branch step (also the crop's share),
  (c) ChannelAggregationLocalizer against a per-image ``scipy.ndimage.label``
      loop on a batch of 16 feature maps of the same backbone (boxes are
      checked to be identical).

    python tools/analysis_tools/benchmark_localizer.py --depth 18 \
        --img-size 224 --batch 8 --device cpu --iters 3
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import numpy as np
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import projects.fgvc_aam  # noqa: F401
from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from projects.fgvc_aam.models.classifiers import crop_and_resize
from projects.fgvc_aam.models.localizers import (
    ChannelAggregationLocalizer, localizer_inputs)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--depth', type=int, default=18,
                        help='ResNet depth (18, 34, 50, 101, 152)')
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=8,
                        help='batch of the training steps in (a), (b)')
    parser.add_argument('--device', default='cpu', help='cpu | cuda')
    parser.add_argument('--iters', type=int, default=3,
                        help='timed iterations (after one warm-up)')
    parser.add_argument('--num-classes', type=int, default=200)
    parser.add_argument('--loc-batch', type=int, default=16,
                        help='feature maps in comparison (c)')
    parser.add_argument('--connectivity', type=int, default=8)
    parser.add_argument('--json', default=None, metavar='OUT',
                        help='also write the figures to this JSON file')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s choice); '
                        '1 is steadier on a loaded machine')
    return parser.parse_args()


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timeit(fn, device, iters, warmup=1):
    """Median wall time of ``fn`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_cfg(args, two_branch):
    in_channels = 512 if args.depth < 50 else 2048
    cfg = dict(
        type='TwoBranchClassifier' if two_branch else 'ImageClassifier',
        backbone=dict(type='ResNet', depth=args.depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=args.num_classes,
                  in_channels=in_channels))
    if two_branch:
        cfg['localizer'] = dict(type='ChannelAggregationLocalizer',
                                connectivity=args.connectivity)
    return cfg


def scipy_localize(feat, img_shape, connectivity):
    """Reference: channel sum and threshold on the device, then a per-image
    scipy.ndimage.label loop on the host (same tie rule: scipy numbers
    components in raster order of their first cell, argmax takes the first
    largest)."""
    from scipy import ndimage
    structure = ndimage.generate_binary_structure(
        2, 1 if connectivity == 4 else 2)
    agg = feat.sum(1, dtype=torch.float32)
    finite = torch.isfinite(agg).flatten(1).all(1).cpu().numpy()
    masks = (agg > agg.mean((1, 2), keepdim=True)).cpu().numpy()
    height, width = masks.shape[1:]
    img_h, img_w = img_shape
    boxes = np.tile(np.array([0, 0, img_w, img_h], np.float32),
                    (len(masks), 1))
    for i, mask in enumerate(masks):
        labels, num = ndimage.label(mask, structure=structure)
        if num == 0 or not finite[i]:
            continue
        best = np.bincount(labels.ravel())[1:].argmax() + 1
        ys, xs = np.nonzero(labels == best)
        cells = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                         np.float32)
        boxes[i] = cells * np.array([img_w, img_h, img_w, img_h],
                                    np.float32) / np.array(
                                        [width, height, width, height],
                                        np.float32)
    return torch.from_numpy(boxes).to(feat.device)


def main():
    args = parse_args()
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    size = args.img_size
    inputs = torch.randn(args.batch, 3, size, size, device=device)
    samples = [
        DataSample().set_gt_label(i % args.num_classes).to(device)
        for i in range(args.batch)
    ]

    # (a) the two training steps, interleaved so that load drifts on a shared
    # machine hit both alike; median over iterations
    steps, models = {}, {}
    for two_branch in (False, True):
        model = MODELS.build(model_cfg(args, two_branch)).to(device)
        model.train()
        optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step(model=model, optim=optim):
            losses = model(inputs, samples, mode='loss')
            loss, _ = model.parse_losses(losses)
            optim.zero_grad()
            loss.backward()
            optim.step()

        steps[two_branch], models[two_branch] = step, model
    times = {False: [], True: []}
    for it in range(args.iters + 1):  # the first round warms up
        for two_branch in (False, True):
            elapsed = timeit(steps[two_branch], device, 1, warmup=0)
            if it:
                times[two_branch].append(elapsed)
    single = statistics.median(times[False])
    two = statistics.median(times[True])

    # (b) the localizer and the crop on this step's own feature maps
    model = models[True]
    with torch.no_grad():
        outs = model.backbone(inputs)
    localizer = model.localizer
    feat, prev = localizer_inputs(localizer, outs)
    t_loc = timeit(lambda: localizer(feat, (size, size), prev_feat=prev),
                   device, max(args.iters, 20))
    boxes = localizer(feat, (size, size), prev_feat=prev)
    t_crop = timeit(lambda: crop_and_resize(inputs, boxes, (size, size)),
                    device, max(args.iters, 5))

    # (c) batch of `loc_batch` feature maps of the same backbone
    with torch.no_grad():
        loc_inputs = torch.randn(args.loc_batch, 3, size, size, device=device)
        loc_outs = model.backbone(loc_inputs)
    ours = ChannelAggregationLocalizer(connectivity=args.connectivity)
    loc_feat, _ = localizer_inputs(ours, loc_outs)
    t_ours = timeit(lambda: ours(loc_feat, (size, size)), device, 50, 3)
    t_scipy = timeit(
        lambda: scipy_localize(loc_feat, (size, size), args.connectivity),
        device, 50, 3)
    same = torch.equal(
        ours(loc_feat, (size, size)),
        scipy_localize(loc_feat, (size, size), args.connectivity))

    name = torch.cuda.get_device_name(device) if device.type == 'cuda' \
        else f'CPU, {torch.get_num_threads()} threads'
    print(f'ResNet-{args.depth}, {size}x{size}, batch {args.batch}, {name}; '
          f'feature map {tuple(feat.shape[1:])}')
    print(f'single-branch train step : {single * 1e3:9.1f} ms')
    print(f'two-branch train step    : {two * 1e3:9.1f} ms')
    print(f'(a) two / single         : {two / single:9.3f}   (goal <= 2.1)')
    print(f'(b) localizer            : {t_loc * 1e3:9.3f} ms = '
          f'{100 * t_loc / two:.3f} % of the two-branch step   (goal <= 2 %)')
    print(f'    crop (roi_align)     : {t_crop * 1e3:9.3f} ms = '
          f'{100 * t_crop / two:.3f} % of the two-branch step')
    print(f'(c) {args.loc_batch} maps '
          f'{tuple(loc_feat.shape[1:])}: ours {t_ours * 1e6:.0f} us, '
          f'scipy loop {t_scipy * 1e6:.0f} us -> {t_scipy / t_ours:.2f}x '
          f'faster (goal >= 10x); identical boxes: {same}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(dict(
                device=name, depth=args.depth, img_size=size,
                batch=args.batch, iters=args.iters,
                feature_map=list(feat.shape[1:]),
                single_step_ms=single * 1e3, two_step_ms=two * 1e3,
                two_over_single=two / single, localizer_ms=t_loc * 1e3,
                localizer_share=t_loc / two, crop_ms=t_crop * 1e3,
                crop_share=t_crop / two, loc_batch=args.loc_batch,
                ours_us=t_ours * 1e6, scipy_us=t_scipy * 1e6,
                identical_boxes=bool(same)), f, indent=1)


if __name__ == '__main__':
    main()

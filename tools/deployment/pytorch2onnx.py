"""Export a classifier to ONNX: the test-time network (tensor mode) on
normalised input, with the object box for a two-branch model.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx
        [--shape H W] [--batch N] [--opset 18] [--verify]

Graph inputs / outputs:

- ``input``: (N, 3, H, W) float32, the image after the config's test
  pipeline and ``data_preprocessor`` (RGB, ``(x - mean) / std``);
- ``logits``: (N, num_classes), what ``tools/test.py`` scores (for a
  two-branch model: raw + object logits with ``test_branch='sum'``);
- ``boxes`` (two-branch models): (N, 4) ``x1, y1, x2, y2`` in input pixels.

The batch axis ``N`` is dynamic (any batch size runs; ``--batch`` is only
the size of the example traced and verified). The file's
``metadata_props`` carry what a deployment needs besides the graph (JSON
values): ``classes``, ``mean``, ``std`` and ``to_rgb`` of the
``data_preprocessor``, ``input_size`` ``[H, W]``, ``test_pipeline`` (the
config's test transforms between loading and packing, to map boxes back to
the original image) and ``score`` (how the printed score is computed).
``demo/onnx_demo.py`` reads them and needs only onnxruntime, numpy and
OpenCV.

The localizer's early exit (a data-dependent ``if`` that tracing cannot
keep) is switched off: the labelling then always runs its fixed number of
rounds, with identical boxes. The exporter is ``torch.onnx.export(...,
dynamo=True)`` (needs ``onnx`` and ``onnxscript``); ``--verify`` runs the
file in onnxruntime and prints the largest difference from PyTorch.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, Tuple

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import torch
import torch.nn as nn


class ExportWrapper(nn.Module):
    """``input -> logits`` (and ``boxes`` for a two-branch model)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.with_boxes = hasattr(model, 'logits_and_boxes')

    def forward(self, inputs: torch.Tensor):
        if not self.with_boxes:
            return self.model(inputs, mode='tensor')
        return self.model.logits_and_boxes(inputs)


def build(config: str, checkpoint: str, cfg_options=None) -> nn.Module:
    """The model as tools/test.py builds it, with early exit off."""
    from mmengine.config import Config

    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import init_fitting_model
    from projects.fgvc_aam.models.localizers import ChannelAggregationLocalizer
    from projects.fgvc_aam_hardening.runtime_fixes import \
        allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # also read what plain mmengine wrote
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # refused if the checkpoint does not fit the config's model
    model = init_fitting_model(cfg, checkpoint, device='cpu')
    for module in model.modules():
        if isinstance(module, ChannelAggregationLocalizer):
            module.early_exit = False
    return model.eval()


def export(model: nn.Module, out: str, shape: Tuple[int, int],
           batch: int = 1, opset: int = 18) -> ExportWrapper:
    """Write the graph, with a dynamic batch axis, to ``out``."""
    if batch < 1:
        raise ValueError(f'batch must be >= 1, got {batch}')
    wrapper = ExportWrapper(model).eval()
    dummy = torch.randn(batch, 3, *shape)
    names = ['logits', 'boxes'] if wrapper.with_boxes else ['logits']
    with torch.no_grad():
        program = torch.onnx.export(
            wrapper, (dummy, ), dynamo=True, input_names=['input'],
            output_names=names, opset_version=opset,
            dynamic_shapes=({0: torch.export.Dim('batch')}, ))
    program.save(out)
    return wrapper


def deployment_metadata(model: nn.Module,
                        shape: Tuple[int, int]) -> Dict[str, str]:
    """What ``demo/onnx_demo.py`` needs besides the graph, as JSON
    strings: class names, normalisation, input size, test transforms."""
    from projects.fgvc_aam.apis import cosine_scale
    from projects.fgvc_aam.compat.mmpretrain import (model_config,
                                                     model_dataset_meta,
                                                     normalizes)
    pre = model.data_preprocessor
    cfg = model_config(model)
    pipeline = [
        dict(t) for t in cfg.test_dataloader.dataset.pipeline
        if not (t['type'].startswith('Pack') or t['type'].startswith('Load'))
    ]
    classes = (model_dataset_meta(model) or {}).get('classes')
    meta = dict(
        classes=list(classes) if classes else None,
        mean=pre.mean.flatten().tolist() if normalizes(pre) else None,
        std=pre.std.flatten().tolist() if normalizes(pre) else None,
        to_rgb=bool(getattr(pre, 'to_rgb', False)),
        input_size=[int(shape[0]), int(shape[1])],
        test_pipeline=pipeline,
        score='softmax(logits)' + (
            f'; logits = {cosine_scale(model):g} * cosine (margin head: a '
            'score relative to the other classes, not a calibrated '
            'probability)' if cosine_scale(model) else ''))
    return {k: json.dumps(v) for k, v in meta.items()}


def write_with_metadata(graph: str, out: str, meta: Dict[str, str]) -> None:
    """``graph`` plus ``meta`` in ``metadata_props``, as the NEW file
    ``out`` (written beside it, then linked: never over an existing file);
    ``graph`` is removed."""
    import onnx
    proto = onnx.load(graph)
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, graph)
    os.link(graph, out)  # FileExistsError rather than an overwrite
    os.remove(graph)


def verify(wrapper: ExportWrapper, out: str, shape: Tuple[int, int],
           batch: int = 1, seed: int = 0) -> float:
    """Largest |onnxruntime - PyTorch| over the outputs on random input."""
    import numpy as np
    import onnxruntime as ort
    torch.manual_seed(seed)
    x = torch.randn(batch, 3, *shape)
    with torch.no_grad():
        ref = wrapper(x)
    ref = ref if isinstance(ref, tuple) else (ref, )
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': x.numpy()})
    return max(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref))


def main() -> None:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, default=None,
                        metavar=('H', 'W'),
                        help='input size (default: the crop size of the '
                        'test pipeline)')
    parser.add_argument('--batch', type=int, default=1,
                        help='batch of the traced and verified example '
                        '(the exported batch axis is dynamic)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--verify', action='store_true',
                        help='compare with onnxruntime on a random input')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    # every flag checked before the (slow) build and export
    if args.batch < 1:
        sys.exit(f'pytorch2onnx.py: --batch must be >= 1, got {args.batch}')
    if args.shape and min(args.shape) < 1:
        sys.exit(f'pytorch2onnx.py: --shape must be positive, got '
                 f'{args.shape}')
    if osp.lexists(args.out):
        sys.exit(f'pytorch2onnx.py: --out {args.out!r} exists; choose '
                 'another name (nothing was overwritten)')
    model = build(args.config, args.checkpoint, args.cfg_options)
    from projects.fgvc_aam.compat.mmpretrain import model_config
    shape = tuple(args.shape) if args.shape else input_shape(
        model_config(model))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    partial = f'{args.out}.{os.getpid()}.partial'
    try:
        wrapper = export(model, partial, shape, args.batch, args.opset)
        write_with_metadata(partial, args.out,
                            deployment_metadata(model, shape))
    finally:
        if osp.exists(partial):
            os.remove(partial)
    print(f'saved {args.out} (input Nx3x{shape[0]}x{shape[1]}, N dynamic; '
          f'outputs {"logits, boxes" if wrapper.with_boxes else "logits"})')
    if args.verify:
        diff = verify(wrapper, args.out, shape, args.batch)
        print(f'onnxruntime vs PyTorch: max abs difference {diff:.3g}')


def input_shape(cfg) -> Tuple[int, int]:
    """(H, W) the test pipeline produces: the last crop / resize size."""
    size = None
    for t in cfg.test_dataloader.dataset.pipeline:
        for key in ('crop_size', 'scale'):
            if key in t:
                size = t[key]
                break
    if size is None:
        raise ValueError('cannot tell the input size from the test pipeline;'
                         ' pass --shape H W')
    if isinstance(size, int):
        return size, size
    return int(size[1]), int(size[0])  # mmcv sizes are (w, h)


if __name__ == '__main__':
    main()

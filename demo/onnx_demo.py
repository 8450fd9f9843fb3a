"""Classify images with an exported ONNX file (onnxruntime, numpy, OpenCV).

Prints, one JSON line per image, what ``demo/image_demo.py`` prints for
the PyTorch model (class, score, ``--topk`` best classes, and the object
box ``bbox`` in the ORIGINAL image's pixels). Everything besides the graph
(class names, mean / std, input size, the test transforms) is read from
the file's ``metadata_props``, written by ``tools/deployment/pytorch2onnx.py``.

    python demo/onnx_demo.py MODEL.onnx IMAGE|FOLDER [...] [--topk K]

Images are read in their stored pixel orientation (EXIF orientation not
applied), as ``tools/test.py`` reads them; the test transforms supported
are ``Resize`` (fixed size), ``ResizeEdge`` and ``CenterCrop``.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from image_demo import fail, list_images, to_json

# what the test pipelines of our configs use (mmcv / MMPretrain defaults)
INTERPOLATION = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR,
                 'bicubic': cv2.INTER_CUBIC, 'area': cv2.INTER_AREA,
                 'lanczos': cv2.INTER_LANCZOS4}


def read_metadata(session) -> Dict:
    """The JSON values of the file's ``metadata_props``."""
    props = session.get_modelmeta().custom_metadata_map
    missing = [k for k in ('mean', 'std', 'to_rgb', 'input_size',
                           'test_pipeline') if k not in props]
    if missing:
        fail(f'the ONNX file has no {", ".join(missing)} in its metadata; '
             'export it with tools/deployment/pytorch2onnx.py')
    return {k: json.loads(v) for k, v in props.items()}


def _resize(img: np.ndarray, size: Tuple[int, int], how: str) -> np.ndarray:
    if how not in INTERPOLATION:
        fail(f'interpolation {how!r} is not supported')
    return cv2.resize(img, size, interpolation=INTERPOLATION[how])


def apply_pipeline(img: np.ndarray, pipeline: List[dict]
                   ) -> Tuple[np.ndarray, List[float], List[float]]:
    """``img`` through the test transforms, as mmcv / MMPretrain run them,
    and the map back: ``x_ori = (x_in + offset) / scale`` per axis."""
    scale, offset = [1.0, 1.0], [0.0, 0.0]
    for t in pipeline:
        kind = t['type']
        h, w = img.shape[:2]
        if kind == 'Resize' and not t.get('keep_ratio', False) \
                and t.get('scale') is not None:
            size = t['scale']
            new_w, new_h = (size, size) if isinstance(size, int) else size
        elif kind == 'ResizeEdge':
            edge, side = t.get('edge', 'short'), t['scale']
            if (edge == 'short' and w < h) or (edge == 'long' and w > h) \
                    or edge == 'width':
                new_w, new_h = side, int(side * h / w)
            else:
                new_w, new_h = int(side * w / h), side
        elif kind == 'CenterCrop' and not t.get('auto_pad', False):
            size = t['crop_size']
            cw, ch = (size, size) if isinstance(size, int) else size
            ch, cw = min(ch, h), min(cw, w)
            y1 = max(0, int(round((h - ch) / 2.)))
            x1 = max(0, int(round((w - cw) / 2.)))
            img = img[y1:y1 + ch, x1:x1 + cw]
            offset = [offset[0] + x1, offset[1] + y1]
            continue
        else:
            fail(f'test transform {t} is not supported by onnx_demo.py '
                 '(Resize with a fixed size, ResizeEdge, CenterCrop)')
        img = _resize(img, (int(new_w), int(new_h)),
                      t.get('interpolation', 'bilinear'))
        sx, sy = img.shape[1] / w, img.shape[0] / h
        scale = [scale[0] * sx, scale[1] * sy]
        offset = [offset[0] * sx, offset[1] * sy]
    return img, scale, offset


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def predict(session, meta: Dict, images: List[str]) -> List[dict]:
    """One result per image: the keys ``FGVCInferencer`` returns."""
    mean = np.asarray(meta['mean'] or [0, 0, 0], np.float32)
    std = np.asarray(meta['std'] or [1, 1, 1], np.float32)
    inputs, geometry = [], []
    for path in images:
        img = cv2.imread(path,
                         cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        if img is None:
            fail(f'image {path!r} cannot be read as an image')
        shown, scale, offset = apply_pipeline(img, meta['test_pipeline'])
        if list(shown.shape[:2]) != list(meta['input_size']):
            fail(f'{path}: the test transforms give {shown.shape[:2]}, the '
                 f'graph takes {meta["input_size"]}')
        x = shown[..., ::-1] if meta['to_rgb'] else shown
        inputs.append((x.astype(np.float32) - mean) / std)
        geometry.append((scale, offset, img.shape[:2]))
    batch = np.ascontiguousarray(np.stack(inputs).transpose(0, 3, 1, 2))
    outputs = session.run(None, {'input': batch})
    scores = softmax(outputs[0].astype(np.float64))
    classes = meta.get('classes')
    results = []
    for i, (scale, offset, (h, w)) in enumerate(geometry):
        label = int(scores[i].argmax())
        result = dict(pred_scores=scores[i], pred_label=label,
                      pred_score=float(scores[i, label]),
                      pred_class=classes[label] if classes else None)
        if len(outputs) > 1:
            box = (outputs[1][i].astype(np.float64) +
                   np.array(offset * 2)) / np.array(scale * 2)
            box[0::2] = box[0::2].clip(0, w)
            box[1::2] = box[1::2].clip(0, h)
            result['pred_bbox'] = box.tolist()
        results.append(result)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('onnx', help='file written by pytorch2onnx.py')
    parser.add_argument('img', nargs='+',
                        help='image files and/or folders of images')
    parser.add_argument('--topk', type=int, default=1)
    args = parser.parse_args(argv)
    if not osp.isfile(args.onnx):
        fail(f'ONNX file {args.onnx!r} does not exist')
    if args.topk < 1:
        fail(f'--topk must be >= 1, got {args.topk}')
    images = list_images(args.img)
    import onnxruntime as ort
    session = ort.InferenceSession(args.onnx,
                                   providers=['CPUExecutionProvider'])
    meta = read_metadata(session)
    for path, result in zip(images, predict(session, meta, images)):
        print(json.dumps(to_json(path, result, meta.get('classes'),
                                 args.topk)), flush=True)


if __name__ == '__main__':
    main()

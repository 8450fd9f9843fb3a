"""tools/deployment/pytorch2onnx.py: the exported graph, run by
onnxruntime, gives what tools/test.py's model gives (classes, scores,
boxes). Skipped where onnx / onnxscript / onnxruntime are not installed
(requirements/optional.txt)."""
import importlib.util
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from tests.helpers import (ROOT, class_names, python_tool,
                           write_random_checkpoint)

for name in ('onnx', 'onnxscript', 'onnxruntime'):
    pytest.importorskip(name)

CONFIG = 'tests/configs/tiny_two_branch_crop.py'
# one export, shared by the tests
pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool():
    return _load('pytorch2onnx', 'tools/deployment/pytorch2onnx.py')


@pytest.fixture(scope='module')
def exported(synthetic_root, tmp_path_factory):
    """One export (batch 2 traced) of a random two-branch model, with the
    metadata, as the tool writes it: (tool, model, ckpt, options, file)."""
    tmp = tmp_path_factory.mktemp('onnx')
    classes = class_names(synthetic_root)
    opts = {f'{s}_dataloader.dataset.data_root': synthetic_root
            for s in ('train', 'val', 'test')}
    opts['model.head.num_classes'] = len(classes)
    ckpt = write_random_checkpoint(CONFIG, str(tmp / 'r.pth'), opts,
                                   classes)
    tool = _tool()
    model = tool.build(CONFIG, ckpt, opts)
    partial, out = str(tmp / 'model.partial'), str(tmp / 'model.onnx')
    tool.export(model, partial, (64, 64), batch=2)
    tool.write_with_metadata(partial, out,
                             tool.deployment_metadata(model, (64, 64)))
    return tool, model, ckpt, opts, out


def test_onnx_matches_the_pytorch_test_step(exported):
    """Oracle: ``model.test_step`` (what mmengine's test loop runs) on the
    test images: pred_label, pred_score (softmax of the logits) and
    pred_bboxes; a batch of 4 into the graph traced with 2."""
    import onnxruntime as ort
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS

    _, model, _, _, out = exported
    batch = 4

    cfg = model._config
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    data = pseudo_collate([dataset[i] for i in range(batch)])
    with torch.no_grad():
        preds = model.test_step(data)
        inputs = model.data_preprocessor(data, False)['inputs']
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    logits, boxes = session.run(None, {'input': inputs.numpy()})
    scores = torch.from_numpy(logits).softmax(1)
    for i, pred in enumerate(preds):
        assert int(scores[i].argmax()) == int(pred.pred_label)
        np.testing.assert_allclose(scores[i].numpy(),
                                   pred.pred_score.numpy(), atol=1e-5)
        np.testing.assert_allclose(boxes[i], pred.pred_bboxes[0].numpy(),
                                   atol=1e-4)


def test_batch_axis_is_dynamic(exported):
    """Batch 1 and batch 3 run in onnxruntime (the export traced batch 2)
    and give PyTorch's logits and boxes."""
    import onnxruntime as ort
    tool, model, _, _, out = exported
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert session.get_inputs()[0].shape[0] not in (1, 2, 3)  # symbolic
    wrapper = tool.ExportWrapper(model).eval()
    for batch in (1, 3):
        x = torch.randn(batch, 3, 64, 64, generator=torch.Generator()
                        .manual_seed(batch))
        logits, boxes = session.run(None, {'input': x.numpy()})
        with torch.no_grad():
            ref_logits, ref_boxes = wrapper(x)
        assert logits.shape[0] == boxes.shape[0] == batch
        np.testing.assert_allclose(logits, ref_logits.numpy(), atol=1e-4)
        np.testing.assert_allclose(boxes, ref_boxes.numpy(), atol=1e-4)


def test_metadata_holds_classes_normalisation_and_size(exported,
                                                       synthetic_root):
    """Oracle: the data set's classes.txt and the config's
    data_preprocessor (read from the config file)."""
    import onnx
    from mmengine.config import Config
    *_, out = exported
    props = {p.key: json.loads(p.value)
             for p in onnx.load(out).metadata_props}
    pre = Config.fromfile(osp.join(ROOT, CONFIG)).data_preprocessor
    assert props['classes'] == class_names(synthetic_root)
    assert props['mean'] == pytest.approx(list(pre.mean))
    assert props['std'] == pytest.approx(list(pre.std))
    assert props['to_rgb'] is bool(pre.get('to_rgb', False))
    assert props['input_size'] == [64, 64]
    assert [t['type'] for t in props['test_pipeline']] == [
        'Resize', 'CenterCrop'
    ]


def test_onnx_demo_prints_what_image_demo_prints(exported, tmp_path,
                                                 synthetic_root):
    """Oracle: FGVCInferencer (what image_demo.py prints) on three images
    of different sizes: scores and boxes in original pixels within 1e-4,
    and the same JSON lines; the images go through the graph as one
    batch of 3."""
    import cv2
    from mmengine.config import Config

    from projects.fgvc_aam.apis import FGVCInferencer
    _, _, ckpt, opts, out = exported
    for i, (h, w) in enumerate(((90, 150), (120, 80), (64, 64))):
        img = np.full((h, w, 3), 20 + 70 * i, np.uint8)
        cv2.circle(img, (w // 3, h // 2), min(h, w) // 4, (0, 200, 250), -1)
        cv2.imwrite(str(tmp_path / f'{i}.png'), img)
    images = [str(tmp_path / f'{i}.png') for i in range(3)]
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.merge_from_dict(opts)
    ref = FGVCInferencer(cfg, pretrained=ckpt)(images)
    sys.path.insert(0, osp.join(ROOT, 'demo'))
    try:
        demo = _load('onnx_demo', 'demo/onnx_demo.py')
        image_demo = _load('image_demo', 'demo/image_demo.py')
    finally:
        sys.path.remove(osp.join(ROOT, 'demo'))
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = demo.predict(session, demo.read_metadata(session), images)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g['pred_scores'], r['pred_scores'],
                                   atol=1e-4)
        assert g['pred_bbox'] == pytest.approx(r['pred_bbox'], abs=1e-4)
    proc = python_tool('demo/onnx_demo.py', out, str(tmp_path), '--topk',
                       '2')
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    for line, image, r in zip(lines, images, ref):
        want = image_demo.to_json(image, r, class_names(synthetic_root), 2)
        assert line.keys() == want.keys()
        assert line['pred_label'] == want['pred_label']
        assert line['pred_class'] == want['pred_class']
        assert line['pred_score'] == pytest.approx(want['pred_score'],
                                                   abs=1e-4)
        assert line['bbox'] == pytest.approx(want['bbox'], abs=0.011)
        assert [t['pred_label'] for t in line['topk']] == [
            t['pred_label'] for t in want['topk']
        ]


def test_batch_0_is_refused_before_export(tmp_path):
    out = str(tmp_path / 'm.onnx')
    proc = python_tool('tools/deployment/pytorch2onnx.py', CONFIG,
                       str(tmp_path / 'missing.pth'), '--out', out,
                       '--batch', '0', check=False)
    assert proc.returncode != 0 and '--batch' in proc.stderr
    assert 'Traceback' not in proc.stderr and not osp.exists(out)

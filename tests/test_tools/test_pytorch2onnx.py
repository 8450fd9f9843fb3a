"""tools/deployment/pytorch2onnx.py: the exported graph, run by
onnxruntime, gives what tools/test.py's model gives (classes, scores,
boxes). Skipped where onnx / onnxscript / onnxruntime are not installed
(requirements/optional.txt)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

from tests.helpers import ROOT, class_names, write_random_checkpoint

for name in ('onnx', 'onnxscript', 'onnxruntime'):
    pytest.importorskip(name)

CONFIG = 'tests/configs/tiny_two_branch_crop.py'


def _tool():
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx', osp.join(ROOT, 'tools/deployment/pytorch2onnx.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_onnx_matches_the_pytorch_test_step(synthetic_root, tmp_path):
    """Oracle: ``model.test_step`` (what mmengine's test loop runs) on the
    test images: pred_label, pred_score (softmax of the logits) and
    pred_bboxes."""
    import onnxruntime as ort
    from mmengine.dataset import pseudo_collate
    from mmpretrain.registry import DATASETS

    classes = class_names(synthetic_root)
    opts = {f'{s}_dataloader.dataset.data_root': synthetic_root
            for s in ('train', 'val', 'test')}
    opts['model.head.num_classes'] = len(classes)
    ckpt = write_random_checkpoint(CONFIG, str(tmp_path / 'r.pth'), opts,
                                   classes)
    tool = _tool()
    model = tool.build(CONFIG, ckpt, opts)
    out = str(tmp_path / 'model.onnx')
    batch = 4
    tool.export(model, out, (64, 64), batch=batch)

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

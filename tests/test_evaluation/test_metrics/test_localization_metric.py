"""LocalizationMetric on hand-made boxes (IoU values computed by hand)."""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.evaluation.metrics import LocalizationMetric

# (pred, gt, IoU by hand)
CASES = [
    ([0, 0, 10, 10], [[0, 0, 10, 10]], 1.),
    ([0, 0, 10, 10], [[5, 0, 15, 10]], 50 / 150),
    ([0, 0, 10, 10], [[0, 0, 10, 20]], 100 / 200),
    ([0, 0, 4, 4], [[10, 10, 20, 20]], 0.),
    # two gt boxes: the better one counts
    ([0, 0, 10, 10], [[20, 20, 30, 30], [2, 2, 10, 10]], 64 / 100),
]


def _sample(pred=None, gt=None, label=0):
    s = DataSample().set_gt_label(label).set_pred_score(
        torch.tensor([0.9, 0.1]))
    if pred is not None:
        s.set_field(torch.tensor([pred], dtype=torch.float32), 'pred_bboxes')
    if gt is not None:
        s.set_field(gt, 'gt_bboxes')
    return s.to_dict()


def test_miou_and_corloc_by_hand():
    metric = LocalizationMetric()
    samples = [_sample(p, torch.tensor(g, dtype=torch.float32))
               for p, g, _ in CASES]
    samples.append(_sample([0, 0, 1, 1], None))  # no gt: ignored
    samples.append(_sample(None, torch.tensor([[0., 0., 1., 1.]])))
    metric.process(None, samples)
    res = metric.compute_metrics(metric.results)
    ious = [iou for _, _, iou in CASES]
    assert res['mIoU'] == pytest.approx(100 * sum(ious) / len(ious))
    # IoU >= 0.5 counts: 1.0, 0.5, 0.64
    assert res['CorLoc'] == pytest.approx(100 * 3 / 5)

    strict = LocalizationMetric(iou_thr=0.7)
    strict.process(None, samples)
    assert strict.compute_metrics(strict.results)['CorLoc'] == \
        pytest.approx(100 * 1 / 5)


def test_numpy_gt_and_flat_pred():
    metric = LocalizationMetric(iou_thr=0.3)
    s = DataSample().set_gt_label(0)
    s.set_field(torch.tensor([0., 0., 10., 10.]), 'pred_bboxes')
    s.set_field(np.array([[5, 0, 15, 10]], np.float32), 'gt_bboxes')
    metric.process(None, [s.to_dict()])
    res = metric.compute_metrics(metric.results)
    assert res == pytest.approx({'mIoU': 100 / 3, 'CorLoc': 100.})


def test_no_boxes_returns_empty_and_warns_once(monkeypatch):
    calls = []
    import projects.fgvc_aam.evaluation.metrics.localization_metric as mod
    monkeypatch.setattr(mod, 'print_log', lambda *a, **k: calls.append(a))
    metric = LocalizationMetric()
    for _ in range(2):
        metric.process(None, [_sample(), _sample([0, 0, 1, 1])])
        assert metric.compute_metrics(metric.results) == {}
        metric.results.clear()
    assert len(calls) == 1


def test_beside_accuracy_in_an_evaluator():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        evaluator = Evaluator([
            dict(type='Accuracy', topk=(1, )),
            dict(type='LocalizationMetric')
        ])
    samples = [
        _sample([0, 0, 10, 10], torch.tensor([[0., 0., 10., 10.]]), 0),
        _sample([0, 0, 10, 10], torch.tensor([[5., 0., 15., 10.]]), 1),
    ]
    evaluator.process(samples, None)
    res = evaluator.evaluate(2)
    assert res['accuracy/top1'] == pytest.approx(50.)
    assert res['localization/CorLoc'] == pytest.approx(50.)
    assert res['localization/mIoU'] == pytest.approx(100 * (1 + 1 / 3) / 2)


def test_validation_and_registry():
    assert isinstance(METRICS.build(dict(type='LocalizationMetric')),
                      LocalizationMetric)
    # a wrong value is a ValueError, a wrong type a TypeError (issue 15)
    for bad, error in ((0, ValueError), (1.5, ValueError), ('a', TypeError),
                       (True, TypeError)):
        with pytest.raises(error, match='iou_thr'):
            LocalizationMetric(iou_thr=bad)

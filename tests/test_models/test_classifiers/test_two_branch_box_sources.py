"""TwoBranchClassifier with each box source of the ablation: the boxes it
crops are the source's (hand-computed for GT / whole image), and a tiny
model trains one step with each."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torchvision.ops import box_iou

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.models.classifiers import crop_and_resize
from tests.helpers import ROOT

GTS = [[8., 4., 40., 36.], [0., 16., 64., 64.], [20., 20., 28., 60.]]
SOURCES = {
    'GroundTruthBoxLocalizer': dict(type='GroundTruthBoxLocalizer'),
    'JitteredBoxLocalizer': dict(type='JitteredBoxLocalizer'),
    'WholeImageLocalizer': dict(type='WholeImageLocalizer'),
    'ChannelAggregationLocalizer': dict(type='ChannelAggregationLocalizer'),
}


def _model(localizer):
    cfg = Config.fromfile(osp.join(ROOT, 'tests/configs/tiny_two_branch.py'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.localizer = localizer
    model_cfg.data_preprocessor = dict(type='ClsDataPreprocessor',
                                       **cfg.data_preprocessor)
    torch.manual_seed(0)
    return MODELS.build(model_cfg)


def _data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, 64, 64), generator=gen,
                            dtype=torch.uint8) for _ in GTS]
    samples = []
    for i, box in enumerate(GTS):
        sample = DataSample(metainfo=dict(sample_idx=i)).set_gt_label(i % 3)
        sample.set_field(torch.tensor([box]), 'gt_bboxes')
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_the_object_branch_crops_the_sources_box():
    data = _data()
    model = _model(SOURCES['GroundTruthBoxLocalizer']).eval()
    batch = model.data_preprocessor(data, False)
    x, samples = batch['inputs'], batch['data_samples']
    _, boxes, feats = model.extract_two_branch_feats(
        x, with_raw=False, data_samples=samples)
    assert boxes.tolist() == GTS
    crops = crop_and_resize(x, torch.tensor(GTS), (64, 64))
    with torch.no_grad():
        ref = model.neck(model.backbone(crops))
    torch.testing.assert_close(feats, ref)
    # the whole image: the object branch sees the raw input again
    whole = _model(SOURCES['WholeImageLocalizer']).eval()
    raw, boxes, obj = whole.extract_two_branch_feats(x)
    assert boxes.tolist() == [[0., 0., 64., 64.]] * 3
    torch.testing.assert_close(obj, raw)
    # the jittered box: IoU 0.5 with the GT (torchvision's box_iou)
    jit = _model(SOURCES['JitteredBoxLocalizer']).eval()
    preds = jit.predict(x, samples)
    got = torch.cat([p.pred_bboxes for p in preds])
    iou = box_iou(got, torch.tensor(GTS)).diagonal()
    assert (iou - 0.5).abs().max() <= 1e-3
    # GT sources need the data samples: tensor mode has none
    with pytest.raises(ValueError, match='without data samples'):
        jit(x, mode='tensor')


@pytest.mark.parametrize('name', sorted(SOURCES))
def test_one_training_step_with_each_source(name):
    model = _model(SOURCES[name])
    model.train()
    before = copy.deepcopy(model.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(_data(), optim)
    assert {'loss', 'loss_raw', 'loss_object'} <= set(log_vars)
    assert torch.isfinite(log_vars['loss'])
    torch.testing.assert_close(log_vars['loss'],
                               log_vars['loss_raw'] + log_vars['loss_object'])
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k])
               for k in before if k.startswith('backbone.'))

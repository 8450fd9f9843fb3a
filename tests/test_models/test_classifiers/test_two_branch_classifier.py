"""TwoBranchClassifier: crop geometry, loss = L_raw + L_object with shared
weights, and the raw / object / sum outputs, against a plain
ImageClassifier with the same weights."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.models.classifiers import (TwoBranchClassifier,
                                                  crop_and_resize)
from projects.fgvc_aam.models.localizers import ChannelAggregationLocalizer

NUM_CLASSES = 5


def reference_crop(inputs, boxes, size):
    """Bilinear crop-and-resize with grid_sample: output pixel k samples the
    input at edge coordinate x1 + (k + 0.5) * (x2 - x1) / out_w; borders
    clamped."""
    num, _, height, width = inputs.shape
    out_h, out_w = size
    grids = []
    for x1, y1, x2, y2 in boxes.tolist():
        xs = x1 + (torch.arange(out_w, dtype=torch.float64) + 0.5) * (
            x2 - x1) / out_w
        ys = y1 + (torch.arange(out_h, dtype=torch.float64) + 0.5) * (
            y2 - y1) / out_h
        gx = 2 * xs / width - 1
        gy = 2 * ys / height - 1
        gy, gx = torch.meshgrid(gy, gx, indexing='ij')
        grids.append(torch.stack([gx, gy], -1))
    grid = torch.stack(grids).to(inputs.dtype)
    return F.grid_sample(inputs, grid, mode='bilinear',
                         padding_mode='border', align_corners=False)


def test_crop_whole_image_is_identity():
    x = torch.randn(3, 3, 20, 24)
    boxes = torch.tensor([[0., 0., 24., 20.]] * 3)
    torch.testing.assert_close(crop_and_resize(x, boxes, (20, 24)), x)


def test_crop_integer_box_downscale_equals_area_resize():
    x = torch.randn(2, 3, 32, 32)
    boxes = torch.tensor([[4., 8., 20., 16.], [0., 0., 32., 32.]])
    out = crop_and_resize(x, boxes, (4, 8))
    ref0 = F.avg_pool2d(x[:1, :, 8:16, 4:20], 2)
    ref1 = F.avg_pool2d(x[1:], (8, 4))
    torch.testing.assert_close(out[:1], ref0)
    torch.testing.assert_close(out[1:], F.adaptive_avg_pool2d(x[1:], (4, 8)))
    torch.testing.assert_close(out[1:], ref1)


def test_crop_upscale_equals_bilinear_reference():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 28, 36, generator=gen)
    boxes = torch.tensor([[0., 0., 12., 7.], [9., 7., 36., 28.],
                          [5.25, 3.5, 17.75, 21.], [0., 14., 36., 28.]])
    out = crop_and_resize(x, boxes, (28, 36))
    torch.testing.assert_close(out, reference_crop(x, boxes, (28, 36)),
                               rtol=1e-5, atol=1e-5)
    # interior of an integer box: same as interpolating the sliced region
    inner = F.interpolate(x[1:2, :, 7:28, 9:36], size=(28, 36),
                          mode='bilinear', align_corners=False)
    torch.testing.assert_close(out[1:2, :, 2:-2, 2:-2],
                               inner[:, :, 2:-2, 2:-2], rtol=1e-5, atol=1e-5)


def test_localizer_boxes_to_pixels():
    """A box of feature cells covers exactly those cells' pixels."""
    feat = torch.zeros(1, 2, 4, 4)
    feat[0, :, 1:3, 2] = 1.  # cells rows 1..2, column 2
    box = ChannelAggregationLocalizer().localize(feat, (64, 64))
    assert box.tolist() == [[32., 16., 48., 48.]]
    x = torch.arange(64.).view(1, 1, 1, 64).expand(1, 1, 64, 64)
    crop = crop_and_resize(x.contiguous(), box, (32, 16))
    # columns 32..47 of the image, downscaled 16 -> 16: identity along x
    torch.testing.assert_close(crop[0, 0, 0], torch.arange(32., 48.))


def _cfg(head='LinearClsHead', **kwargs):
    head_cfg = dict(type=head, num_classes=NUM_CLASSES, in_channels=64)
    if head == 'LinearClsHead':
        head_cfg['loss'] = dict(type='CrossEntropyLoss')
    cfg = dict(
        backbone=dict(type='ResNet', depth=18, base_channels=8,
                      strides=(1, 2, 2, 1), out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=head_cfg)
    cfg.update(kwargs)
    return cfg


def _build_pair(head='LinearClsHead', **kwargs):
    torch.manual_seed(0)
    two = MODELS.build(dict(type='TwoBranchClassifier', **_cfg(head),
                            **kwargs))
    plain = MODELS.build(dict(type='ImageClassifier', **_cfg(head)))
    missing = plain.load_state_dict(two.state_dict(), strict=True)
    assert not missing.missing_keys
    return two, plain


def _batch(num=6, size=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num, 3, size, size, generator=gen)
    x[:, :, 10:40, 20:50] += 2.  # something to localize
    labels = torch.randint(0, NUM_CLASSES, (num, ), generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return x, samples


def _plain_boxes(plain, x):
    with torch.no_grad():
        feat = plain.backbone(x)[-1]
    return ChannelAggregationLocalizer().localize(feat, x.shape[-2:])


HEADS = ['LinearClsHead', 'ArcFaceClsHead']
if 'AngularMarginHead' in MODELS.module_dict:
    HEADS.append('AngularMarginHead')


@pytest.mark.parametrize('head', HEADS)
def test_loss_is_sum_of_branch_losses_with_shared_weights(head):
    two, plain = _build_pair(head)
    two.train(), plain.train()
    x, samples = _batch()
    losses = two.loss(x, samples)
    assert {'loss_raw', 'loss_object'} <= set(losses)
    total, log_vars = two.parse_losses(losses)

    boxes = _plain_boxes(plain, x)
    crops = reference_crop(x, boxes, (64, 64))
    ref_raw = plain.loss(x, samples)['loss']
    ref_obj = plain.loss(crops, samples)['loss']
    torch.testing.assert_close(losses['loss_raw'], ref_raw)
    torch.testing.assert_close(losses['loss_object'], ref_obj,
                               rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(total, ref_raw + ref_obj, rtol=1e-4,
                               atol=1e-4)
    assert 'loss_raw' in log_vars and 'loss_object' in log_vars

    # gradients of the shared weights are the sum over both branches
    two.zero_grad(), plain.zero_grad()
    total.backward()
    (ref_raw + ref_obj).backward()
    for (name, p2), p1 in zip(two.named_parameters(), plain.parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-3, atol=1e-4,
                                   msg=name)


@pytest.mark.parametrize('head', HEADS)
def test_test_branches_reproduce_plain_classifier(head):
    two, plain = _build_pair(head)
    two.eval(), plain.eval()
    x, samples = _batch(seed=1)
    with torch.no_grad():
        boxes = _plain_boxes(plain, x)
        crops = reference_crop(x, boxes, (64, 64))
        raw_logits = plain(x)
        obj_logits = plain(crops)
        ref_raw = plain.predict(x, copy.deepcopy(samples))

        two.test_branch = 'raw'
        torch.testing.assert_close(two(x), raw_logits)
        preds = two.predict(x, copy.deepcopy(samples))
        for p, r in zip(preds, ref_raw):
            torch.testing.assert_close(p.pred_score, r.pred_score)
            assert torch.equal(p.pred_label, r.pred_label)

        two.test_branch = 'object'
        torch.testing.assert_close(two(x), obj_logits, rtol=1e-4, atol=1e-4)
        preds = two.predict(x, copy.deepcopy(samples))
        torch.testing.assert_close(
            torch.stack([p.pred_score for p in preds]),
            obj_logits.softmax(1), rtol=1e-4, atol=1e-4)

        two.test_branch = 'sum'
        logits = raw_logits + obj_logits
        torch.testing.assert_close(two(x), logits, rtol=1e-4, atol=1e-4)
        preds = two.predict(x)  # works without data samples too
        torch.testing.assert_close(
            torch.stack([p.pred_score for p in preds]), logits.softmax(1),
            rtol=1e-4, atol=1e-4)
        for p, b in zip(preds, boxes):
            assert p.pred_bboxes.shape == (1, 4)
            assert torch.equal(p.pred_bboxes[0], b)


def test_extract_feat_follows_test_branch_and_flops_count_both():
    from mmengine.analysis import get_model_complexity_info
    two, plain = _build_pair()
    two.eval(), plain.eval()
    x, _ = _batch(num=2, seed=2)
    with torch.no_grad():
        crops = reference_crop(x, _plain_boxes(plain, x), (64, 64))
        for stage in ('backbone', 'neck', 'pre_logits'):
            raw = plain.extract_feat(x, stage)
            obj = plain.extract_feat(crops, stage)
            raw = raw if isinstance(raw, tuple) else (raw, )
            obj = obj if isinstance(obj, tuple) else (obj, )
            for branch, ref in (('raw', raw), ('object', obj),
                                ('sum', tuple(a + b
                                              for a, b in zip(raw, obj)))):
                two.test_branch = branch
                got = two.extract_feat(x, stage)
                got = got if isinstance(got, tuple) else (got, )
                for g, r in zip(got, ref):
                    torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-4)

    def flops(model):
        model.forward = model.extract_feat  # as MMPretrain's get_flops.py
        return get_model_complexity_info(
            model, (3, 64, 64), show_table=False, show_arch=False)['flops']

    two.test_branch = 'sum'
    ratio = flops(two) / flops(plain)
    assert 1.95 < ratio < 2.1, ratio


COMPARISON_MODELS = []
if 'BilinearPooling' in MODELS.module_dict:
    COMPARISON_MODELS.append(('b-cnn', dict(
        neck=dict(type='BilinearPooling'),
        head=dict(type='LinearClsHead', num_classes=NUM_CLASSES,
                  in_channels=64 * 64))))
if 'MCLossHead' in MODELS.module_dict:
    COMPARISON_MODELS.append(('mc-loss', dict(
        neck=None,
        head=dict(type='MCLossHead', num_classes=NUM_CLASSES,
                  in_channels=64, channels_per_class=2))))


@pytest.mark.parametrize('name,parts', COMPARISON_MODELS,
                         ids=[n for n, _ in COMPARISON_MODELS])
def test_with_comparison_necks_and_heads(name, parts):
    """B-CNN neck / MC-loss head: every loss term per branch, equal to the
    plain model's terms on the raw and the cropped batch."""
    cfg = _cfg()
    cfg.update(parts)
    torch.manual_seed(0)
    two = MODELS.build(dict(type='TwoBranchClassifier', **cfg)).train()
    plain = MODELS.build(dict(type='ImageClassifier', **cfg)).train()
    plain.load_state_dict(two.state_dict())
    x, samples = _batch()
    torch.manual_seed(1)  # MC-loss draws random channel masks
    losses = two.loss(x, samples)
    boxes = _plain_boxes(plain, x)
    crops = reference_crop(x, boxes, (64, 64))
    torch.manual_seed(1)
    ref = {f'{k}_raw': v for k, v in plain.loss(x, samples).items()}
    ref.update({f'{k}_object': v
                for k, v in plain.loss(crops, samples).items()})
    assert set(losses) == set(ref)
    for key in ref:
        torch.testing.assert_close(losses[key], ref[key], rtol=1e-4,
                                   atol=1e-4, msg=key)
    two.eval()
    with torch.no_grad():
        preds = two.predict(x)
    assert len(preds) == len(x) and preds[0].pred_bboxes.shape == (1, 4)


def test_tensor_mode_without_head_and_prev_stage():
    torch.manual_seed(0)
    cfg = _cfg()
    cfg['backbone']['out_indices'] = (2, 3)
    cfg.pop('head')
    two = MODELS.build(dict(
        type='TwoBranchClassifier',
        localizer=dict(type='ChannelAggregationLocalizer', prev_in_index=0),
        **cfg)).eval()
    x, _ = _batch(num=3)
    with torch.no_grad():
        outs = two.backbone(x)
        boxes = ChannelAggregationLocalizer().localize(
            outs[1], (64, 64), prev_feat=outs[0])
        feats_raw, got_boxes, feats_obj = two.extract_two_branch_feats(x)
        assert torch.equal(got_boxes, boxes)
        summed = two(x)
    assert len(summed) == 2
    torch.testing.assert_close(summed[1], feats_raw[1] + feats_obj[1])


def test_validation():
    with pytest.raises(ValueError, match="test_branch.*'both'"):
        MODELS.build(dict(type='TwoBranchClassifier', test_branch='both',
                          **_cfg()))
    with pytest.raises(ValueError, match='crop_size'):
        MODELS.build(dict(type='TwoBranchClassifier', crop_size=(0, 3),
                          **_cfg()))
    model = MODELS.build(dict(type='TwoBranchClassifier', **_cfg()))
    assert isinstance(model, ImageClassifier)
    assert isinstance(model, TwoBranchClassifier)
    with pytest.raises(ValueError, match='test_branch'):
        model.test_branch = 'mean'


def test_crop_size_option():
    two, _ = _build_pair(crop_size=32)
    two.eval()
    x, samples = _batch(num=2)
    with torch.no_grad():
        _, boxes, _ = two.extract_two_branch_feats(x, with_object=False)
        crops = two.crop(x, boxes)
    assert crops.shape == (2, 3, 32, 32)


def _by_hand(two, x, crop_size=None):
    """Oracle: the model's parts called by hand. The box: the channel-
    aggregation localizer on the last backbone output; the crop:
    ``crop_and_resize`` (checked above against grid_sample); each branch:
    backbone -> neck (-> pre_logits / head)."""
    outs = two.backbone(x)
    boxes = ChannelAggregationLocalizer().localize(outs[-1], x.shape[-2:])
    crops = crop_and_resize(x, boxes, crop_size or tuple(x.shape[-2:]))
    outs_obj = two.backbone(crops)
    feats = {}
    for name, o in (('raw', outs), ('object', outs_obj)):
        neck = two.neck(o)
        feats[name] = dict(backbone=o, neck=neck,
                           pre_logits=two.head.pre_logits(neck),
                           logits=two.head(neck))
    return feats, boxes


def _combine(feats, branch, stage):
    """``test_branch`` by hand: one branch, or raw + object element-wise."""
    if branch != 'sum':
        return feats[branch][stage]
    raw, obj = feats['raw'][stage], feats['object'][stage]
    if isinstance(raw, tuple):
        return tuple(a + b for a, b in zip(raw, obj))
    return raw + obj


def _same(got, ref):
    got = got if isinstance(got, tuple) else (got, )
    ref = ref if isinstance(ref, tuple) else (ref, )
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert torch.equal(g, r)


@pytest.mark.parametrize('head', HEADS)
@pytest.mark.parametrize('branch', TwoBranchClassifier.TEST_BRANCHES)
def test_every_mode_equals_the_branches_by_hand(head, branch):
    """tensor mode, predict, logits_and_boxes, extract_feat (every stage)
    and extract_branch_feat equal backbone + neck + head called by hand on
    the raw images and on the crops, bit for bit, for each test_branch
    (crops of 48 px for one branch; the sum needs the input's size)."""
    crop = None if branch == 'sum' else 48
    two, _ = _build_pair(head, test_branch=branch, crop_size=crop)
    two.eval()
    x, samples = _batch(num=3, seed=3)
    with torch.no_grad():
        feats, boxes = _by_hand(two, x, crop and (crop, crop))
        logits = _combine(feats, branch, 'logits')
        _same(two(x), logits)
        _same(two(x, copy.deepcopy(samples), mode='tensor'), logits)
        got_logits, got_boxes = two.logits_and_boxes(x)
        _same(got_logits, logits)
        assert torch.equal(got_boxes, boxes)
        preds = two.predict(x, copy.deepcopy(samples))
        assert torch.equal(torch.stack([p.pred_score for p in preds]),
                           F.softmax(logits, dim=1))
        assert [int(p.pred_label) for p in preds] == logits.argmax(
            1).tolist()
        assert torch.equal(torch.cat([p.pred_bboxes for p in preds]), boxes)
        for stage in ('backbone', 'neck', 'pre_logits'):
            _same(two.extract_feat(x, stage), _combine(feats, branch, stage))
            _same(two.extract_feat(x, stage=stage),
                  _combine(feats, branch, stage))
            # one branch: the raw images only, whatever test_branch is
            _same(two.extract_branch_feat(x, stage), feats['raw'][stage])
        with pytest.raises(AssertionError, match='Invalid output stage'):
            two.extract_feat(x, 'logits')


def test_every_mode_dispatches_through_test_branch_output(monkeypatch):
    """The one place of the raw / object / sum decision: each mode calls
    ``test_branch_output`` (a spy records the stage it asks for) and
    returns what it returns."""
    two, _ = _build_pair()
    two.eval()
    x, samples = _batch(num=2)
    calls = []
    real = two.test_branch_output

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append((args[1:], kwargs, out))
        return out

    monkeypatch.setattr(two, 'test_branch_output', spy)
    with torch.no_grad():
        tensor = two(x)
        feat = two.extract_feat(x, 'pre_logits')
        logits, boxes = two.logits_and_boxes(x, samples)
        preds = two.predict(x)
    stages = [(args[0] if args else kwargs.get('stage')) for args, kwargs, _
              in calls]
    assert stages == ['logits', 'pre_logits', 'logits', 'logits']
    assert tensor is calls[0][2][0] and feat is calls[1][2][0]
    assert logits is calls[2][2][0] and boxes is calls[2][2][1]
    assert calls[2][1] == dict(with_boxes=True)
    assert torch.equal(torch.stack([p.pred_score for p in preds]),
                       F.softmax(calls[3][2][0], dim=1))

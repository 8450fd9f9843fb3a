"""tools/visualization/vis_localization.py reads the backbone outputs the
classifier's localizer reads: one rule (``localizer_inputs``), in-process
on tiny random models."""
import pytest
import torch
from mmpretrain.registry import MODELS

import projects.fgvc_aam  # noqa: F401
import projects.fgvc_aam.models.classifiers.two_branch_classifier as tbc
import projects.fgvc_aam.models.localizers as localizers
from projects.fgvc_aam.models.localizers import ChannelAggregationLocalizer
from tests.helpers import load_tool


def _model(two_branch=True, **localizer):
    cfg = dict(
        type='TwoBranchClassifier' if two_branch else 'ImageClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=8,
                      strides=(1, 2, 2, 1), out_indices=(1, 2, 3)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=64))
    if two_branch:
        cfg['localizer'] = dict(type='ChannelAggregationLocalizer',
                                **localizer)
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def _inputs():
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    x[:, :, 8:30, 12:44] += 2.
    return x


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/visualization/vis_localization.py')


def test_vis_tool_reads_the_outputs_the_classifier_reads(tool):
    """Oracle: the outputs indexed by hand (in_index=-2 is stage 2,
    prev_in_index=0 stage 1): the channel sum of stage 2, the AOLM mask of
    stages 2 and 1, and the classifier's own boxes. A tool that read the
    last output (the default) fails here."""
    model = _model(in_index=-2, prev_in_index=0)
    x = _inputs()
    agg, mask, boxes = tool.localize(model, x)
    with torch.no_grad():
        outs = model.backbone(x)
        hand = ChannelAggregationLocalizer()
        ref_mask, _ = hand.object_mask(outs[1], outs[0])
        ref_boxes = hand.localize(outs[1], (64, 64), prev_feat=outs[0])
        model_boxes = model.localize(outs, (64, 64))
    torch.testing.assert_close(agg, outs[1].sum(1))
    assert torch.equal(mask, ref_mask)
    assert torch.equal(boxes, ref_boxes)
    assert torch.equal(boxes, model_boxes)
    assert not torch.allclose(agg, outs[2].sum(1))  # not the last output


def test_vis_tool_and_classifier_share_one_code_path(tool, monkeypatch):
    """A rule changed in ``localizer_inputs`` (here: always the first
    output) changes the tool's and the classifier's boxes alike."""
    real = localizers.localizer_inputs
    seen = []

    def first_output(localizer, outs, owner='TwoBranchClassifier'):
        seen.append(owner)
        real(localizer, outs, owner)  # its checks still run
        return outs[0], None

    monkeypatch.setattr(localizers, 'localizer_inputs', first_output)
    monkeypatch.setattr(tbc, 'localizer_inputs', first_output)
    model = _model()
    x = _inputs()
    _, _, boxes = tool.localize(model, x)
    with torch.no_grad():
        outs = model.backbone(x)
        model_boxes = model.localize(outs, (64, 64))
        ref = ChannelAggregationLocalizer().localize(outs[0], (64, 64))
    assert seen == ['vis_localization.py', 'TwoBranchClassifier']
    assert torch.equal(boxes, ref) and torch.equal(model_boxes, ref)


def test_vis_tool_on_a_plain_classifier_reads_the_last_output(tool):
    model = _model(two_branch=False)
    x = _inputs()
    agg, _, boxes = tool.localize(model, x)
    with torch.no_grad():
        last = model.backbone(x)[-1]
    torch.testing.assert_close(agg, last.sum(1))
    assert torch.equal(boxes,
                       ChannelAggregationLocalizer().localize(last, (64, 64)))

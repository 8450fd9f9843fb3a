"""localizer_inputs: the one rule for which backbone outputs a box source
reads (``in_index`` / ``prev_in_index``)."""
import pytest
import torch
import torch.nn as nn

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.models.localizers import (ChannelAggregationLocalizer,
                                                 GroundTruthBoxLocalizer,
                                                 WholeImageLocalizer,
                                                 localizer_inputs)

OUTS = tuple(torch.full((1, 2, 4, 4), float(i)) for i in range(3))


def test_default_is_the_last_output_without_an_earlier_stage():
    for localizer in (ChannelAggregationLocalizer(), WholeImageLocalizer(),
                      nn.Identity()):  # no in_index attribute: -1
        feat, prev = localizer_inputs(localizer, OUTS)
        assert feat is OUTS[2] and prev is None


def test_in_index_and_prev_in_index_pick_those_outputs():
    localizer = ChannelAggregationLocalizer(in_index=1, prev_in_index=0)
    feat, prev = localizer_inputs(localizer, OUTS)
    assert feat is OUTS[1] and prev is OUTS[0]
    localizer = ChannelAggregationLocalizer(in_index=-2, prev_in_index=-3)
    feat, prev = localizer_inputs(localizer, OUTS)
    assert feat is OUTS[1] and prev is OUTS[0]


def test_no_feature_map_and_a_single_tensor():
    assert localizer_inputs(GroundTruthBoxLocalizer(), OUTS) == (None, None)
    feat, prev = localizer_inputs(ChannelAggregationLocalizer(), OUTS[0])
    assert feat is OUTS[0] and prev is None


def test_a_pooled_output_is_refused_naming_the_caller():
    pooled = (torch.zeros(1, 8), )
    with pytest.raises(ValueError, match=r'my_tool: .*\(N, C, H, W\).*'
                       r'output -1.*out_type="featmap"'):
        localizer_inputs(ChannelAggregationLocalizer(), pooled, 'my_tool')

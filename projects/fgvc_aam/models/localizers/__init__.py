from .channel_aggregation_localizer import (ChannelAggregationLocalizer,
                                            connected_components,
                                            largest_component)
from .ground_truth_box_localizer import GroundTruthBoxLocalizer
from .jittered_box_localizer import JitteredBoxLocalizer
from .localizer_inputs import localizer_inputs
from .whole_image_localizer import WholeImageLocalizer

__all__ = ['ChannelAggregationLocalizer', 'connected_components',
           'largest_component', 'GroundTruthBoxLocalizer',
           'JitteredBoxLocalizer', 'WholeImageLocalizer', 'localizer_inputs']

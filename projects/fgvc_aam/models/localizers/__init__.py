from .channel_aggregation_localizer import (ChannelAggregationLocalizer,
                                            connected_components,
                                            largest_component)

__all__ = ['ChannelAggregationLocalizer', 'connected_components',
           'largest_component']

"""ResNet whose last stage has a chosen width (MC-loss's ResNet-18).

The official from-scratch MC-loss ResNet-18 (github.com/PRIS-CV/
Mutual-Channel-Loss, ``CUB-200-2011_ResNet18.py`` line 169:
``self.layer4 = self._make_layer(block, 600, layers[3], stride=1)``) makes
its last stage output ``200 x 3 = 600`` channels at stride 1 (14 x 14 maps at
224 px), so the MC-loss acts on the stage itself, without a 1x1 layer.
:class:`ResNetLastStage` is MMPretrain's ``ResNet`` with
``last_stage_channels`` replacing the last stage's output width (the stride
is MMPretrain's own ``strides`` argument).
"""
from typing import Optional

from mmpretrain.models.backbones import ResNet
from mmpretrain.registry import MODELS

from ...utils.checks import check_int


@MODELS.register_module()
class ResNetLastStage(ResNet):
    """MMPretrain ``ResNet`` with ``last_stage_channels`` output channels in
    its last stage.

    Args:
        last_stage_channels (int, optional): Output channels of the last
            stage (a multiple of the block's expansion). None keeps
            ResNet's own width. Defaults to None.
        **kwargs: MMPretrain ``ResNet`` arguments.
    """

    def __init__(self, last_stage_channels: Optional[int] = None,
                 **kwargs) -> None:
        if last_stage_channels is not None:
            last_stage_channels = check_int('last_stage_channels',
                                            last_stage_channels, 1,
                                            'ResNetLastStage')
        # Set before ResNet.__init__, which calls make_res_layer per stage.
        object.__setattr__(self, '_last_stage_channels', last_stage_channels)
        object.__setattr__(self, '_stages_made', 0)
        super().__init__(**kwargs)

    def make_res_layer(self, **kwargs):
        """ResNet's stage, with the last one widened/narrowed."""
        object.__setattr__(self, '_stages_made', self._stages_made + 1)
        last = self._stages_made == self.num_stages
        if last and self._last_stage_channels is not None:
            expansion = kwargs['expansion']
            if self._last_stage_channels % expansion:
                raise ValueError(
                    f'ResNetLastStage: `last_stage_channels`='
                    f'{self._last_stage_channels} is not a multiple of the '
                    f'block expansion {expansion}')
            kwargs['out_channels'] = self._last_stage_channels
        return super().make_res_layer(**kwargs)

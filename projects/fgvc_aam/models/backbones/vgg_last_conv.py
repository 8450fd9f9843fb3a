"""VGG whose stages may end in a conv of another width (MC-loss's VGG-16).

The official from-scratch MC-loss VGG-16 (github.com/PRIS-CV/
Mutual-Channel-Loss, ``CUB-200-2011.py`` line 60) is VGG-16-BN with the last
conv of stages 4 and 5 widened to ``200 x 3 = 600`` channels and no pool
after stage 5: ``[..., 512, 512, 600, 'M', 512, 512, 600]``.
:class:`VGGLastConv` is MMPretrain's ``VGG`` with ``last_conv_channels``
giving, per stage, the width of its last conv (None keeps VGG's); the conv
that follows takes the new width as input.
"""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmpretrain.models.backbones import VGG
from mmpretrain.registry import MODELS

from ...utils.checks import check_int


@MODELS.register_module()
class VGGLastConv(VGG):
    """MMPretrain ``VGG`` with per-stage widths of the last conv.

    Args:
        last_conv_channels (Sequence[int | None]): One entry per stage:
            output channels of the stage's last conv, or None to keep it.
        **kwargs: MMPretrain ``VGG`` arguments.
    """

    def __init__(self, last_conv_channels: Sequence[Optional[int]],
                 **kwargs) -> None:
        super().__init__(**kwargs)
        owner = 'VGGLastConv'
        self._conv_args = dict(
            conv_cfg=kwargs.get('conv_cfg'),
            norm_cfg=kwargs.get('norm_cfg'),
            act_cfg=kwargs.get('act_cfg', dict(type='ReLU')))
        if len(last_conv_channels) != len(self.stage_blocks):
            raise ValueError(
                f'{owner}: `last_conv_channels` has '
                f'{len(last_conv_channels)} entries for '
                f'{len(self.stage_blocks)} stages')
        if self.num_classes > 0 and last_conv_channels[-1] is not None:
            raise ValueError(
                f'{owner}: `num_classes`={self.num_classes} builds VGG\'s '
                'classifier for 512 x 7 x 7 inputs, but `last_conv_channels` '
                f'resizes the last stage to {last_conv_channels[-1]}; use '
                'num_classes=-1 and a head')
        layers = getattr(self, self.module_name)
        convs = [i for i, m in enumerate(layers)
                 if isinstance(m, ConvModule)]
        for stage, channels in enumerate(last_conv_channels):
            if channels is None:
                continue
            channels = check_int('last_conv_channels', channels, 1, owner)
            start, end = self.range_sub_modules[stage]
            last = [i for i in convs if start <= i < end][-1]
            layers[last] = self._resized(layers[last],
                                         out_channels=channels)
            following = [i for i in convs if i > last]
            if following:
                layers[following[0]] = self._resized(
                    layers[following[0]], in_channels=channels)

    def _resized(self, conv: ConvModule, in_channels: Optional[int] = None,
                 out_channels: Optional[int] = None) -> ConvModule:
        """The same conv-norm-act block (VGG's own arguments) with other
        channel counts."""
        old = conv.conv
        return ConvModule(
            in_channels or old.in_channels,
            out_channels or old.out_channels,
            kernel_size=3,
            dilation=old.dilation,
            padding=old.padding,
            bias=True,
            **self._conv_args)

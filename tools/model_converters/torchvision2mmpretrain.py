r"""Convert a torchvision or timm ResNet state dict into the backbone
checkpoint our configs load (``init_cfg.checkpoint`` with
``prefix='backbone'``).

    python tools/model_converters/torchvision2mmpretrain.py \
        resnet50-0676ba61.pth resnet50_mmpretrain.pth
    python tools/train.py CONFIG --cfg-options \
        model.backbone.init_cfg.checkpoint=resnet50_mmpretrain.pth

See :mod:`fgvc_aam_tools.resnet_weights` for the layout.
"""
import argparse

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from fgvc_aam_tools.resnet_weights import convert_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='torchvision / timm ResNet state dict')
    parser.add_argument('dst', help='output checkpoint (a new file)')
    args = parser.parse_args()
    depth = convert_file(args.src, args.dst)
    print(f'{args.dst}: MMPretrain ResNet-{depth} backbone weights '
          "(style='pytorch'); load them with --cfg-options "
          f'model.backbone.init_cfg.checkpoint={args.dst}')


if __name__ == '__main__':
    main()

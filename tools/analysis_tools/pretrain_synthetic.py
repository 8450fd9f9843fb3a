"""Pretrain the backbone of the synthetic fine-tuning configs, cached.

Generates the synthetic pretraining set (``PRETRAIN_PARAMS``: 48 classes of
the same domain that are not the default set's), trains
``configs/pretrain/softmax_resnet18-w16_1xb16-30e_synthetic-fgvc-pretrain.py``
on it and writes an MMPretrain checkpoint, cached by the content of the
config and the data parameters (a second call returns at once)::

    python tools/analysis_tools/pretrain_synthetic.py

With ``--objects`` it makes the object-centric pretraining of the mechanism
study instead (``OBJECTS_PRETRAIN_PARAMS``, the three-stage backbone of
``configs/mechanism/``), published at
``work_dirs/pretrained/resnet18-w16-s3_synthetic-objects-pretrain.pth``.

The ``*_resnet18-w16-synpre_*`` configs load its backbone from
``work_dirs/pretrained/resnet18-w16_synthetic-fgvc-pretrain.pth``.
See :mod:`fgvc_aam_tools.compare.pretrain`.
"""
import sys

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from fgvc_aam_tools.compare.pretrain import main

if __name__ == '__main__':
    sys.exit(main())

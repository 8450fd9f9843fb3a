"""Pretrain the backbone of the synthetic fine-tuning configs, cached.

Generates the synthetic pretraining set (``PRETRAIN_PARAMS``: 48 classes of
the same domain that are not the default set's), trains
``configs/pretrain/softmax_resnet18-w16_1xb16-30e_synthetic-fgvc-pretrain.py``
on it and writes an MMPretrain checkpoint, cached by the content of the
config and the data parameters (a second call returns at once)::

    python tools/analysis_tools/pretrain_synthetic.py

The ``*_resnet18-w16-synpre_*`` configs load its backbone from
``work_dirs/pretrained/resnet18-w16_synthetic-fgvc-pretrain.pth``.
See ``tools/analysis_tools/compare/pretrain.py``.
"""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for _p in (ROOT, osp.dirname(osp.abspath(__file__))):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from compare.pretrain import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())

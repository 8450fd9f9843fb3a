"""Shared fixtures: a TINY synthetic fine-grained data set (CUB layout)."""
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Parameters of the tiny data set every test can use (about 0.1 s to make).
TINY_SYNTHETIC = dict(
    num_classes=4,
    images_per_class=6,
    train_per_class=4,
    image_size=64,
    seed=0,
)


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """Path of a tiny generated data set in CUB-200-2011 layout (with
    ``bounding_boxes.txt``): 4 classes x 6 images (4 train, 2 test), 64x64.

    Session-scoped and shared: do not modify it (copy it first).
    """
    from fgvc_aam_tools.synthetic_fgvc import make_synthetic_fgvc
    root = tmp_path_factory.mktemp('synthetic_fgvc')
    return make_synthetic_fgvc(str(root), **TINY_SYNTHETIC)

"""Shared fixtures: a TINY synthetic fine-grained data set (CUB layout) and
one intra-op thread for tests of tiny tensors. Shared functions and
oracles are in ``tests/helpers.py``."""
import pytest
import torch

from tests.helpers import TINY_SYNTHETIC, root_and_classes


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """Path of a tiny generated data set in CUB-200-2011 layout (with
    ``bounding_boxes.txt``): 4 classes x 6 images (4 train, 2 test), 64x64.

    Session-scoped and shared: do not modify it (copy it first).
    """
    from fgvc_aam_tools.synthetic_fgvc import make_synthetic_fgvc
    root = tmp_path_factory.mktemp('synthetic_fgvc')
    return make_synthetic_fgvc(str(root), **TINY_SYNTHETIC)


@pytest.fixture(scope='session')
def synthetic_data(synthetic_root) -> tuple:
    """``(root, num_classes)`` of the ``synthetic_root`` data set."""
    return root_and_classes(synthetic_root)


@pytest.fixture(scope='module')
def one_thread():
    """One intra-op thread for a module's tests (tiny tensors and models:
    faster, and immune to the oversubscription that other processes on a
    small machine cause); the previous count is restored afterwards.

    Use it with ``pytestmark = pytest.mark.usefixtures('one_thread')``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

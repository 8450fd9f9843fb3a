"""Shared fixtures: a TINY synthetic fine-grained data set (CUB layout),
one intra-op thread for tests of tiny tensors, and mmengine's look-up of
``mmpretrain::`` bases done once per test run. Shared functions and
oracles (among them ``load_config``, each config parsed once) are in
``tests/helpers.py``."""
import copy

import pytest
import torch

from tests.helpers import TINY_SYNTHETIC, root_and_classes


@pytest.fixture(scope='session', autouse=True)
def mmpretrain_bases_looked_up_once():
    """Each ``mmpretrain::`` base of a config (e.g. ``mmpretrain::_base_/
    default_runtime.py``) makes mmengine parse every metafile of the
    installed MMPretrain with pure-python YAML (about 0.1 s, in
    ``mmengine.config.utils._get_cfg_metainfo``), for every config loaded.
    The installed files do not change during a test run, so the outcome of
    each look-up (the model's metainfo, or the ``ValueError`` by which
    mmengine falls back to a plain base file) is kept and given back (a
    copy, or the same error) for the rest of the run."""
    import mmengine.config.utils as cfg_utils
    original = cfg_utils._get_cfg_metainfo
    outcomes = {}

    def looked_up_once(package_path: str, cfg_path: str) -> dict:
        key = (package_path, cfg_path)
        if key not in outcomes:
            try:
                outcomes[key] = (original(package_path, cfg_path), None)
            except ValueError as error:
                outcomes[key] = (None, error.args)
        found, error = outcomes[key]
        if error is not None:
            raise ValueError(*error)
        return copy.deepcopy(found)

    cfg_utils._get_cfg_metainfo = looked_up_once
    yield
    cfg_utils._get_cfg_metainfo = original


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


@pytest.fixture(scope='session')
def slurm_partition() -> str:
    """The partition of the one-node Slurm cluster ``.ci/run`` starts
    (``tools/ci/start_slurm.sh``), from ``FGVC_AAM_SLURM_PARTITION``.

    Without one the test is skipped, saying why (``-ra`` prints it); with
    ``CI=true`` a partition that is set but not up fails the test instead.
    """
    import os
    import shutil
    import subprocess
    partition = os.environ.get('FGVC_AAM_SLURM_PARTITION')
    if not partition:
        pytest.skip('no Slurm cluster: FGVC_AAM_SLURM_PARTITION is unset '
                    '(.ci/run sets it after tools/ci/start_slurm.sh)')
    problem = None
    if shutil.which('sinfo') is None:
        problem = 'sinfo is not on PATH'
    else:
        proc = subprocess.run(['sinfo', '-h', '-p', partition, '-o', '%t'],
                              capture_output=True, text=True, timeout=60)
        state = proc.stdout.strip().split('\n')[0]
        if proc.returncode != 0 or state not in ('idle', 'mix', 'alloc'):
            problem = (f'sinfo -p {partition} exited {proc.returncode}, '
                       f'state {state!r}: {proc.stderr.strip()[-500:]}')
    if problem is not None:
        message = f'Slurm partition {partition!r} is not up: {problem}'
        if os.environ.get('CI') == 'true':
            pytest.fail(message)
        pytest.skip(message)
    return partition

"""Installed like MMPretrain (issue 24): a non-editable wheel carries the
configs, ``model-index.yml`` and the tools under
``projects/fgvc_aam/.mim/``, so ``list_models`` / ``get_model`` resolve our
names from an installed package.

The wheel is built from a copy of the checkout (nothing is written into
it) and installed with ``pip --no-deps`` into a fresh venv that sees this
environment's packages for the heavy dependencies (a ``.pth`` file); the
check runs in a folder outside the repository, without ``PYTHONPATH``.
Oracle: the names of ``configs/two_branch/metafile.yml``. On unchanged
main the wheel held no index and ``list_models`` found none of them.
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.helpers import ROOT, two_branch_model_names

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# not part of a source tree: environments, outputs, data
LOCAL = {'.git', '.venv', 'work_dirs', 'data', 'build', 'dist', '.whl',
         '.gl'}

CHECK = '''
import projects.fgvc_aam as pkg
from mmpretrain import get_model, list_models
print(pkg.__file__)
print(','.join(list_models('*two-branch*')))
print(type(get_model({name!r})).__name__)
'''


def _run(cmd, cwd, env=None):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_wheel_resolves_model_names_outside_the_repository(tmp_path):
    src = str(tmp_path / 'src')
    shutil.copytree(ROOT, src, ignore=lambda d, names: [
        n for n in names if (d == ROOT and n in LOCAL) or n.endswith(
            '.egg-info') or n == '__pycache__'])
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
          '--no-build-isolation', '-q', '-w', str(tmp_path / 'wheel'), src],
         cwd=src)
    wheel, = glob.glob(str(tmp_path / 'wheel' / '*.whl'))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    mim = 'projects/fgvc_aam/.mim/'
    assert {mim + 'model-index.yml', mim + 'configs/_base_/default_runtime.py',
            mim + 'configs/two_branch/metafile.yml',
            mim + 'tools/train.py'} <= names

    venv = str(tmp_path / 'venv')
    _run([sys.executable, '-m', 'venv', '--without-pip', venv], cwd=tmp_path)
    python = osp.join(venv, 'bin', 'python')
    site = _run([python, '-c', 'import sysconfig; print(sysconfig.get_paths'
                 '()["purelib"])'], cwd=tmp_path).strip()
    with open(osp.join(site, 'heavy_dependencies.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    _run([python, '-m', 'pip', 'install', '--no-deps', '-q', wheel],
         cwd=tmp_path, env=env)

    want = two_branch_model_names()
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    out = _run([python, '-W', 'ignore', '-c', CHECK.format(name=want[-1])],
               cwd=str(outside), env=env).splitlines()
    assert out[0].startswith(site)  # the installed copy, not the checkout
    assert out[1].split(',') == want
    assert out[2] == 'TwoBranchClassifier'

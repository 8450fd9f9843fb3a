"""Quiet tools (issue 24): the three upstream warnings every tool printed
(mmcv-lite's missing ``MultiScaleDeformableAttention``, ``pkg_resources``
twice) are filtered by their messages, in every tool, before anything
imports mmcv or MMPretrain.

Oracle: the same imports and config load in a plain interpreter print
them (the premise); another warning of the same category still shows.
"""
import ast
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from fgvc_aam_tools.quiet_warnings import UPSTREAM_WARNINGS
from tests.helpers import ROOT

UPSTREAM = ('mmengine', 'mmcv', 'mmpretrain', 'projects', 'fgvc_aam_tools')
QUIET = 'fgvc_aam_tools.quiet_warnings'
TOOLS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'tools', '**',
                                                     '*.py'), recursive=True)
) + ['demo/image_demo.py']
# what a tool does: import MMPretrain's models, and find the mmpretrain
# package for an `mmpretrain::` config base (mmengine's pkg_resources)
LOAD = ('import mmpretrain.models\n'
        'from mmengine.utils import is_installed\n'
        "assert is_installed('mmpretrain')\n"
        "import warnings; warnings.warn('pkg_resources is fine here')\n")


def _module_imports(path: str) -> list:
    with open(osp.join(ROOT, path)) as f:
        tree = ast.parse(f.read())
    names = []
    for node in tree.body:  # module level only
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize('tool', TOOLS)
def test_tool_quiets_before_importing_upstream(tool):
    names = _module_imports(tool)
    upstream = [i for i, n in enumerate(names)
                if n.split('.')[0] in UPSTREAM and n != QUIET]
    if not upstream and QUIET not in names:
        # only tools/quickstart.py: it runs the other tools as processes
        assert tool == 'tools/quickstart.py'
        return
    assert QUIET in names, tool
    assert names.index(QUIET) < min(upstream, default=len(names)), tool


def _stderrs(*codes: str) -> list:
    """stderr of each snippet, run side by side in fresh interpreters."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    env['PYTHONPATH'] = ROOT
    procs = [subprocess.Popen([sys.executable, '-c', code], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
             for code in codes]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    for p, err in zip(procs, errs):
        assert p.returncode == 0, err[-3000:]
    return errs


@pytest.mark.slow
def test_exactly_the_upstream_warnings_are_filtered():
    plain, quiet = _stderrs(LOAD, f'import {QUIET}\n' + LOAD)
    assert plain.count(UPSTREAM_WARNINGS[0]) == 1  # mmcv-lite
    assert plain.count(UPSTREAM_WARNINGS[1]) == 2  # pkg_resources, twice
    assert not any(m in quiet for m in UPSTREAM_WARNINGS), quiet
    assert 'pkg_resources is fine here' in quiet  # same category, shown

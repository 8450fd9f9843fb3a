"""No code outside ``projects/fgvc_aam/compat`` reaches a private mmengine
or MMPretrain name (issue 25), checked by the AST scan of
:mod:`tests.test_compat.private_scan`."""
import ast
import os.path as osp
import re
import textwrap

import pytest

from tests.helpers import ROOT
from tests.test_compat.private_scan import (SCANNED, is_private, scan,
                                            upstream_private_names)


@pytest.mark.slow  # parses every file of mmengine and mmpretrain
def test_no_private_upstream_name_outside_compat():
    """Every finding is a line to route through projects/fgvc_aam/compat
    (a function or class declared with @private there)."""
    findings = scan(ROOT)
    assert findings == [], 'private upstream names outside compat:\n' + \
        '\n'.join(map(str, findings))


def test_the_upstream_names_come_from_the_installed_sources():
    """Oracle: names upstream defines (read here by hand from mmengine
    0.10 / MMPretrain 1.x) are in the set; torch's override hooks and
    public names are not."""
    names = upstream_private_names()
    assert {'_save_checkpoint_with_step', '_build_param_scheduler',
            '_load_from', '_init_dist_slurm', '_models_dict',
            '_enable_normalize', '_get_predictions'} <= names
    assert not {'_load_from_state_dict', '_apply', '_modules', '_replace',
                'build_param_scheduler'} & names
    assert all(is_private(n) for n in names)


# Each line of this tree that the scan must flag ends with `# <kind>`;
# lines ending `# ok` must not be flagged.
TREE = {
    'projects/pkg/__init__.py': '',
    'projects/pkg/base.py': '''
        class Mine:
            def __init__(self):
                self._cache = {}  # ok
    ''',
    'projects/pkg/uses.py': '''
        from mmengine.hooks import CheckpointHook
        from mmengine.model import BaseModule
        from mmengine.optim.scheduler import MultiStepParamScheduler as MS
        from mmengine.runner import Runner
        from mmengine.runner.checkpoint import _load_checkpoint  # import
        from mmpretrain.datasets import CUB

        from .base import Mine


        class Hook(CheckpointHook):
            def _save_best_checkpoint(self, runner, metrics):  # override
                super()._save_best_checkpoint(runner, metrics)  # super

            def _is_mine(self):  # ok
                return self.out_dir  # ok


        class Data(CUB):
            def names(self):
                return self._metainfo  # self


        class Module(BaseModule):
            def _load_from_state_dict(self, *args):  # ok
                super()._load_from_state_dict(*args)  # ok


        class Borrow:
            scale_lr = Runner.scale_lr  # ok

            def __init__(self):
                self._train_loop = None  # self


        class Own(Mine):
            def _helper(self):  # ok
                return self._cache  # ok


        def use(model, loop, runner, nt):
            loop._iter = 3  # attribute
            cfg = model._config  # attribute
            getattr(runner, '_load_from', None)  # string
            f = MS.build_iter_from_epoch.__func__  # internals
            Runner._build_param_scheduler  # attribute
            return model._cache, nt._replace(a=1), f, cfg  # ok
    ''',
    'tools/tool.py': '''
        from unittest import mock

        from projects.fgvc_aam_hardening.runtime_setup import \\
            load_mmpretrain_tool

        upstream = load_mmpretrain_tool('test')
        upstream.Runner = None  # rebind
        upstream.parse_args()  # ok
        mock.patch('mmengine.dist.utils._init_dist_slurm')  # string
    ''',
    'projects/fgvc_aam/compat/inside.py': '''
        def config(model):
            return model._config  # ok
    ''',
    'tests/test_x.py': '''
        def test(model):
            return model._config  # ok
    ''',
}


def test_scan_flags_each_kind_of_reach(tmp_path):
    expected = set()
    for rel, text in TREE.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        source = textwrap.dedent(text)
        path.write_text(source)
        for lineno, line in enumerate(source.splitlines(), 1):
            m = re.search(r'# (\w+)$', line)
            if m and m.group(1) != 'ok':
                expected.add((rel, lineno, m.group(1)))
    assert 'tests' not in SCANNED
    found = {(f.path, f.line, f.kind) for f in scan(str(tmp_path))}
    assert found == expected
    assert len(expected) == 12


def test_scan_names_the_upstream_definition(tmp_path):
    (tmp_path / 'projects').mkdir()
    (tmp_path / 'projects' / 'hook.py').write_text(textwrap.dedent('''
        from mmengine.hooks import CheckpointHook
        class Hook(CheckpointHook):
            def _save_checkpoint_with_step(self, runner, step, meta):
                pass
    '''))
    (finding, ) = scan(str(tmp_path))
    assert str(finding) == (
        'projects/hook.py:4: override _save_checkpoint_with_step (Hook '
        'overrides mmengine.hooks.checkpoint_hook.CheckpointHook.'
        '_save_checkpoint_with_step)')


def test_test_tool_rebinds_no_other_module():
    """tools/test.py loaded MMPretrain's test.py and rebound its globals
    (parse_args, merge_args, Runner, RUNNERS) before calling its main().
    Now it calls upstream's parse_args / merge_args only: no attribute of
    another module is assigned, nothing is setattr'd, upstream's main() is
    not run, and the runner is built here."""
    with open(osp.join(ROOT, 'tools', 'test.py')) as f:
        tree = ast.parse(f.read())
    modules = set()  # names bound to a module or what it defines
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules |= {a.asname or a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.Assign) and 'load_mmpretrain_tool' in \
                ast.unparse(node.value):
            modules |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    stores = [
        ast.unparse(n) for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
        and isinstance(n.value, ast.Name) and n.value.id in modules
    ]
    calls = [
        ast.unparse(n.func) for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    ]
    assert stores == []
    assert not any(c in ('setattr', 'upstream.main') for c in calls), calls
    assert 'Runner.from_cfg' in calls and 'runner.test' in calls
    assert 'upstream.parse_args' in calls and 'upstream.merge_args' in calls

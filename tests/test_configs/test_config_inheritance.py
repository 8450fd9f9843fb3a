"""How the configs inherit: a leaf (any config not under a ``_base_``
folder) reaches at most two other leaves through ``_base_`` (e.g. an alias
in configs/, the config it names, one more), and the safety hooks come from
``configs/_base_/default_runtime.py``'s ``default_hooks``, which no
``custom_hooks`` list can drop.

Oracles: the ``_base_`` lists read with :mod:`ast` (no mmengine), a
hand-made chain of files, and mmengine's own merge (``Config.fromfile``).
"""
import ast
import glob
import os.path as osp
from typing import Dict, List

import pytest
from mmengine.config import Config

from tests.helpers import ROOT

MAX_LEAF_ANCESTORS = 2
CONFIG_DIRS = ('configs', osp.join('tests', 'configs'))
RUNTIME = osp.join('configs', '_base_', 'default_runtime.py')


def is_leaf(path: str) -> bool:
    return '_base_' not in path.split(osp.sep)


def bases_of(path: str) -> List[str]:
    """The files ``path``'s ``_base_`` names (absolute; ``pkg::`` bases,
    which are not ours, left out), read with ``ast``."""
    with open(path) as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else list(value)
            return [
                osp.normpath(osp.join(osp.dirname(path), name))
                for name in names if '::' not in name
            ]
    return []


def leaf_ancestors(path: str, seen=()) -> List[str]:
    """The longest chain of leaves above ``path`` (nearest first)."""
    if path in seen:
        raise ValueError(f'{path}: _base_ cycle through {seen}')
    best: List[str] = []
    for base in bases_of(path):
        if not osp.isfile(base):
            raise FileNotFoundError(f'{path}: _base_ names {base}, '
                                    'which does not exist')
        chain = leaf_ancestors(base, seen + (path, ))
        if is_leaf(base):
            chain = [base] + chain
        if len(chain) > len(best):
            best = chain
    return best


def too_deep(root: str, dirs=CONFIG_DIRS) -> Dict[str, List[str]]:
    """Leaves under ``root/dirs`` with more than two leaf ancestors."""
    out = {}
    for d in dirs:
        for path in sorted(
                glob.glob(osp.join(root, d, '**', '*.py'), recursive=True)):
            rel = osp.relpath(path, root)
            if not is_leaf(rel):
                continue
            chain = leaf_ancestors(path)
            if len(chain) > MAX_LEAF_ANCESTORS:
                out[rel] = [osp.relpath(p, root) for p in chain]
    return out


def test_no_leaf_has_more_than_two_leaf_ancestors():
    deep = too_deep(ROOT)
    assert deep == {}, (
        'configs that reach more than two other leaf configs through '
        f'_base_ (move what they share into a _base_ file): {deep}')


def test_the_depth_check_finds_a_deep_chain(tmp_path):
    """Oracle: a hand-made chain alias -> a -> b -> c over a base."""
    (tmp_path / 'configs' / '_base_').mkdir(parents=True)
    (tmp_path / 'configs' / 'm').mkdir()
    (tmp_path / 'configs' / '_base_' / 'r.py').write_text('x = 1\n')
    (tmp_path / 'configs' / 'm' / 'c.py').write_text(
        "_base_ = ['../_base_/r.py', 'mmpretrain::x.py']\n")
    (tmp_path / 'configs' / 'm' / 'b.py').write_text("_base_ = './c.py'\n")
    (tmp_path / 'configs' / 'm' / 'a.py').write_text("_base_ = ['./b.py']\n")
    (tmp_path / 'configs' / 'alias.py').write_text(
        "_base_ = './m/a.py'\n")
    deep = too_deep(str(tmp_path), dirs=('configs', ))
    assert deep == {
        osp.join('configs', 'alias.py'):
        [osp.join('configs', 'm', f) for f in ('a.py', 'b.py', 'c.py')]
    }
    # two leaves up is allowed: a -> b -> c
    (tmp_path / 'configs' / 'alias.py').unlink()
    assert too_deep(str(tmp_path), dirs=('configs', )) == {}


def test_the_aliases_reach_the_thesis_config_in_two_steps():
    """The longest real chains: an alias, the 8xb2 config it names, the
    2xb8 config that one inherits (changes there flow through)."""
    for alias, bb in (('aam_resnet50_cub.py', 'resnet50'),
                      ('aam_resnet101_cub.py', 'resnet101')):
        chain = leaf_ancestors(osp.join(ROOT, 'configs', alias))
        assert [osp.relpath(p, ROOT) for p in chain] == [
            f'configs/two_branch/two-branch-aam-step_{bb}_{n}-100e_cub.py'
            for n in ('8xb2', '2xb8')
        ]


def _config_files():
    return sorted(
        osp.relpath(p, ROOT) for d in CONFIG_DIRS
        for p in glob.glob(osp.join(ROOT, d, '**', '*.py'), recursive=True))


def _reaches_runtime(path: str) -> bool:
    todo = [osp.join(ROOT, path)]
    while todo:
        current = todo.pop()
        if osp.relpath(current, ROOT) == RUNTIME:
            return True
        todo += bases_of(current)
    return False


def test_only_default_runtime_names_the_non_finite_loss_hook():
    """No config restates the safety hook (in custom_hooks or elsewhere):
    it comes from default_runtime.py's default_hooks."""
    naming = []
    for path in _config_files():
        with open(osp.join(ROOT, path)) as f:
            tree = ast.parse(f.read())
        if any(
                isinstance(node, ast.Constant)
                and node.value == 'NonFiniteLossHook'
                for node in ast.walk(tree)):
            naming.append(path)
    assert naming == [RUNTIME]


@pytest.mark.parametrize('path', [
    p for p in _config_files() if is_leaf(p) and _reaches_runtime(p)
], ids=osp.basename)
def test_every_run_config_stops_on_a_non_finite_loss(path):
    """mmengine's merge: every leaf that inherits default_runtime.py has
    the hook in default_hooks (whatever its custom_hooks list) and no
    second one in custom_hooks."""
    cfg = Config.fromfile(osp.join(ROOT, path))
    assert cfg.default_hooks.non_finite == dict(type='NonFiniteLossHook')
    assert all(h.get('type') != 'NonFiniteLossHook'
               for h in cfg.get('custom_hooks') or [])

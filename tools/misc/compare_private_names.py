"""Compare the code behind each private upstream name across releases.

For every name declared in ``projects/fgvc_aam/compat`` it finds, in the
installed mmengine / mmpretrain, the file that defines it, then compares
across the given releases (unpacked wheels) the definition and every
function of that file that mentions the name (docstrings ignored). A
release where one differs is listed with the functions that differ (read
them before widening a range); ``missing`` means the file or name is gone.

    pip download mmengine==0.10.0 --no-deps -d wheels   # ... each release
    (cd wheels && for w in *.whl; do unzip -q -o $w -d ${w%%-py*}; done)
    python tools/misc/compare_private_names.py wheels
"""
import argparse
import ast
import functools
import glob
import importlib
import inspect
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from projects.fgvc_aam.compat import declared_names
from projects.fgvc_aam.compat.guard import installed_version

# the tools parts we reuse, per file under .mim/tools
TOOLS = {
    'train.py': ['parse_args', 'merge_args'],
    'test.py': ['parse_args', 'merge_args', 'main'],
    'visualization/vis_scheduler.py':
    ['SimpleModel', 'ParamRecordHook', 'parse_args', 'simulate_train',
     'main'],
}


def _strip(node: ast.AST) -> str:
    """``ast.dump`` without docstrings and positions."""
    node = ast.parse(ast.unparse(node))  # a copy
    for n in ast.walk(node):
        body = getattr(n, 'body', None)
        if (isinstance(body, list) and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            n.body = body[1:] or [ast.Pass()]
    return ast.dump(node)


def _functions(tree: ast.AST, prefix: str = '') -> Dict[str, ast.AST]:
    """``{qualname: def}`` of every function and class of a module."""
    found = {}
    for node in getattr(tree, 'body', []):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            name = prefix + node.name
            found[name] = node
            if isinstance(node, ast.ClassDef):
                found.update(_functions(node, name + '.'))
    return found


def _mentions(node: ast.AST, name: str) -> bool:
    for n in ast.walk(node):
        if (isinstance(n, ast.Attribute) and n.attr == name) or (
                isinstance(n, ast.Name) and n.id == name) or (
                    isinstance(n, ast.Constant) and n.value == name):
            return True
    return False


def locate(dotted: str) -> Tuple[str, str, List[str]]:
    """``(package, file relative to it, [qualnames to compare])`` of a
    declared name, found in the installed package."""
    package = dotted.split('.')[0].split('/')[0]
    if '/.mim/tools' in dotted:
        rel = dotted.split('/.mim/tools', 1)[1].lstrip('/')
        rel, _, attr = rel.partition(':')
        if not rel:
            return package, '', []
        return package, '.mim/tools/' + rel, TOOLS[rel]
    if ' -> ' in dotted:  # a function and the attribute it sets
        dotted, attr = dotted.split(' -> ')
        attr = attr.split('.')[-1]
    else:
        attr = None
    parts = dotted.removesuffix('.__func__').split('.')
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
            break
        except ImportError:
            continue
    rest = parts[i:]
    owner, k = obj, 0
    while k < len(rest) and hasattr(owner, rest[k]) and (
            inspect.ismodule(owner) or inspect.isclass(owner)):
        nxt = getattr(owner, rest[k])
        if not (inspect.isclass(nxt) or inspect.isfunction(nxt)
                or inspect.ismethod(nxt)):
            break
        owner, k = nxt, k + 1
    owner = getattr(owner, '__func__', owner)
    module = sys.modules[owner.__module__]
    base = osp.dirname(importlib.import_module(package).__file__)
    rel = osp.relpath(module.__file__, base)
    qual = [owner.__qualname__] + rest[k:]
    # the definition, and every function that mentions the name (its
    # callers, readers and writers)
    return package, rel, ['.'.join(qual), 'mentions:' + (attr or qual[-1])]


@functools.lru_cache(maxsize=None)
def _release(root: str, package: str, version: str) -> Dict[str, Dict]:
    """``{file: {qualname: def}}`` of an unpacked release (its ``.mim``
    configs left out; its tools kept)."""
    base = osp.join(root, f'{package}-{version}', package)
    out, paths = {}, []
    for folder, _, files in os.walk(base):
        rel_folder = osp.relpath(folder, base)
        if rel_folder.startswith('.mim') and not rel_folder.startswith(
                '.mim/tools'):
            continue
        for name in files:
            if name.endswith('.py'):
                paths.append(osp.join(folder, name))
    for path in paths:
        rel = osp.relpath(path, base)
        with open(path, encoding='utf-8') as f:
            try:
                out[rel] = _functions(ast.parse(f.read()))
            except SyntaxError:
                continue
    return out


def compare(root: str, dotted: str, release: str,
            reference: str) -> Optional[List[str]]:
    """The functions behind ``dotted`` that differ between two unpacked
    releases (``[]``: none; None: missing in ``release``): its definition
    and, in any file of the package, every function that mentions it."""
    package, rel, names = locate(dotted)
    if not rel:  # the tools folder: every tool we use
        out = []
        for tool in TOOLS:
            got = compare(root, f'{package}/.mim/tools/{tool}', release,
                          reference)
            if got is None:
                return None
            out += got
        return out
    new, old = (_release(root, package, v) for v in (release, reference))
    if rel not in new:
        return None
    keys = set()
    for name in names:
        if name.startswith('mentions:'):
            word = name.split(':', 1)[1]
            keys |= {(f, k) for tree in (new, old) for f, defs in tree.items()
                     for k, v in defs.items()
                     if not isinstance(v, ast.ClassDef) and _mentions(v, word)}
        elif name in new[rel] or name in old.get(rel, {}):
            if name not in new[rel]:
                return None
            keys.add((rel, name))
        elif '.' not in name:
            return None  # a module-level def that is gone
    differ = []
    for f, key in sorted(keys):
        a, b = new.get(f, {}).get(key), old.get(f, {}).get(key)
        if a is None or b is None or _strip(a) != _strip(b):
            differ.append(f'{f}:{key}')
    return differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('unpacked', help='folder of <package>-<version>/')
    args = parser.parse_args(argv)
    for dotted, entry in sorted(declared_names().items()):
        ref = installed_version(entry.package)
        releases = sorted(
            (osp.basename(p).split('-', 1)[1]
             for p in glob.glob(osp.join(args.unpacked, entry.package + '-*'))
             if osp.isdir(p)),
            key=lambda v: tuple(int(x) for x in v.split('.')))
        print(f'{dotted}  [declared {entry.versions}; reference {ref}]')
        for release in releases:
            got = compare(args.unpacked, dotted, release, ref)
            print(f'    {release}: ' + ('missing' if got is None else
                                        'same' if not got else
                                        'differs: ' + ', '.join(got)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Find every private mmengine / MMPretrain name our code reaches (AST).

Private means a ``_name`` (one or more leading underscores, not a
``__dunder__``). The set of upstream private names is read from the
installed ``mmengine`` and ``mmpretrain`` sources (every ``def``, ``class``,
module / class level assignment and ``obj._x = ...`` target), not from a
hand-written list. A file outside ``projects/fgvc_aam/compat`` is flagged
when it

- ``import``: imports a private name or module of upstream;
- ``attribute``: reads or writes ``X._name`` where ``X`` is an upstream
  module, class or function reached through the file's imports
  (``Runner._build_param_scheduler``), or any other object when
  ``_name`` is an upstream private name that our own code defines nowhere
  (``model._config``, ``loop._iter``);
- ``self``: reads or writes ``self._name`` / ``cls._name`` in a class with
  an upstream base, where ``_name`` belongs to that base;
- ``super``: calls ``super()._name`` of an upstream base;
- ``override``: defines a method or class attribute ``_name`` that an
  upstream base defines;
- ``rebind``: assigns an attribute of an upstream module or class, public
  or not (``upstream_tool.SimpleModel = ...``);
- ``string``: names a private upstream name in a string: ``getattr(X,
  '_name')``, ``mock.patch('mmengine.x._y')``, ``patch.object(X, '_y')``;
- ``internals``: takes ``__func__`` / ``__wrapped__`` / ``__globals__`` ...
  of an upstream function.

Torch is not covered: a name that a torch class in the MRO defines
(``_load_from_state_dict``, ``_apply``, ``_modules``, ...) is torch's API
(``_load_from_state_dict`` is nn.Module's documented override hook), not a
private name of mmengine or MMPretrain; so are the stdlib's
(``namedtuple._replace``).

Run it on a tree: ``python -m tests.test_compat.private_scan [ROOT]``.
"""
import ast
import functools
import importlib
import importlib.util
import inspect
import os
import os.path as osp
import re
import sys
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

UPSTREAM = ('mmengine', 'mmpretrain')
SCANNED = ('projects', 'fgvc_aam_tools', 'tools', 'demo')
EXEMPT = ('projects/fgvc_aam/compat/',)
# function internals: reaching through them changes what upstream runs
INTERNALS = frozenset({'__func__', '__wrapped__', '__globals__',
                       '__closure__', '__code__', '__defaults__',
                       '__kwdefaults__'})
# calls whose result is an upstream module (MMPretrain's .mim tools)
TOOL_LOADERS = frozenset(
    {'load_mmpretrain_tool', 'load_tool', 'vis_scheduler_tool'})
# the stdlib's public underscore API
STDLIB_PUBLIC = frozenset({'_asdict', '_replace', '_fields', '_make',
                           '_field_defaults', '_getframe', '_exit'})
_DOTTED_PRIVATE = re.compile(r'^(?:mmengine|mmpretrain)(?:\.\w+)*\.(_\w+)')


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    kind: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f'{self.path}:{self.line}: {self.kind} {self.name} ' \
               f'({self.detail})'


def is_private(name: str) -> bool:
    return name.startswith('_') and not (name.startswith('__')
                                         and name.endswith('__'))


def is_upstream(dotted: Optional[str]) -> bool:
    return bool(dotted) and dotted.split('.')[0] in UPSTREAM


def _defined_private_names(tree: ast.AST) -> Set[str]:
    """The private names a module defines: defs, classes, assignment
    targets (names and attributes: ``self._x = ...``, ``obj._x = ...``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node,
                      (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(
                node.ctx, ast.Store):
            names.add(node.attr)
    return {n for n in names if is_private(n)}


def _package_dir(package: str) -> str:
    return osp.dirname(importlib.util.find_spec(package).origin)


def _py_files(root: str, skip: Tuple[str, ...] = ()) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if d not in skip and d != '__pycache__')
        for f in sorted(files):
            if f.endswith('.py'):
                yield osp.join(folder, f)


def _parse(path: str) -> ast.AST:
    with open(path, encoding='utf-8') as f:
        return ast.parse(f.read(), path)


@functools.lru_cache(maxsize=None)
def foreign_names() -> FrozenSet[str]:
    """Underscore names that are torch's or the stdlib's API."""
    import torch
    classes = (object, torch.nn.Module, torch.Tensor, torch.optim.Optimizer,
               torch.optim.lr_scheduler.LRScheduler, torch.utils.data.Dataset,
               torch.utils.data.DataLoader, torch.utils.data.Sampler)
    return frozenset({n for c in classes for n in dir(c)} | STDLIB_PUBLIC)


@functools.lru_cache(maxsize=None)
def upstream_private_names() -> FrozenSet[str]:
    """Every private name the installed mmengine / mmpretrain define
    (their ``.mim`` configs and tools excluded), minus torch's."""
    names: Set[str] = set()
    for package in UPSTREAM:
        for path in _py_files(_package_dir(package), skip=('.mim', )):
            names |= _defined_private_names(_parse(path))
    return frozenset(names - foreign_names())


def _self_assigned(cls: type) -> Set[str]:
    try:
        tree = ast.parse(inspect.cleandoc('\n' + inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return set()
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name) and node.value.id in ('self',
                                                                   'cls')
        and is_private(node.attr)
    }


@functools.lru_cache(maxsize=None)
def upstream_class_names(cls: type) -> Dict[str, str]:
    """``{private name: 'module.Class'}`` of the upstream classes in
    ``cls``'s MRO (methods, class attributes, ``self._x``), minus the
    names that a torch class of the MRO or ``object`` defines."""
    foreign = set(foreign_names())
    for klass in cls.__mro__:
        if not is_upstream(klass.__module__):
            foreign |= set(vars(klass))
    names: Dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if is_upstream(klass.__module__):
            where = f'{klass.__module__}.{klass.__qualname__}'
            for n in set(vars(klass)) | _self_assigned(klass):
                if is_private(n) and n not in foreign:
                    names[n] = where
    return names


def _import_upstream(dotted: str):
    """The upstream object named ``dotted`` (None if not importable)."""
    parts = dotted.split('.')
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
        except Exception:  # noqa: BLE001 (not a module: try shorter)
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


class _Module:
    """One scanned file: its dotted name, imports and classes."""

    def __init__(self, root: str, path: str) -> None:
        self.path = osp.relpath(path, root).replace(os.sep, '/')
        self.tree = _parse(path)
        parts = self.path[:-3].split('/')
        self.is_package = parts[-1] == '__init__'
        self.dotted = '.'.join(parts[:-1] if self.is_package else parts)
        self.imports: Dict[str, str] = {}
        self.classes: Dict[str, ast.ClassDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.imports[a.asname] = a.name
                    else:
                        top = a.name.split('.')[0]
                        self.imports[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = self.resolve_from(node)
                for a in node.names:
                    self.imports[a.asname or a.name] = f'{base}.{a.name}'
            elif isinstance(node, ast.Assign) and isinstance(
                    node.value, ast.Call) and _call_name(
                        node.value) in TOOL_LOADERS:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        tool = node.value.args[0] if node.value.args else None
                        name = tool.value if isinstance(
                            tool, ast.Constant) else 'tool'
                        self.imports[t.id] = f'mmpretrain.<.mim tools/{name}>'

    def resolve_from(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ''
        package = self.dotted.split('.')
        if not self.is_package:
            package = package[:-1]
        package = package[:len(package) - (node.level - 1)]
        return '.'.join(package + ([node.module] if node.module else []))


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else getattr(f, 'attr', '')


def _dotted(node: ast.AST) -> Optional[List[str]]:
    """``a.b.c`` as ``['a', 'b', 'c']`` (None if not a plain chain)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


class Scanner:
    """Scan the files of ``SCANNED`` folders under ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.modules: Dict[str, _Module] = {}
        for folder in SCANNED:
            if not osp.isdir(osp.join(root, folder)):
                continue
            for path in _py_files(osp.join(root, folder)):
                module = _Module(root, path)
                self.modules[module.dotted] = module
        # what our own code defines (obj._x = ... of another object
        # defines nothing: it reaches into that object; what compat or a
        # class with an upstream base defines may be upstream's)
        self.ours = frozenset().union(
            *(self._our_names(m) for m in self.modules.values()
              if not m.path.startswith(EXEMPT)))

    def _our_names(self, module: _Module) -> Set[str]:
        """The private names ``module`` defines outside classes with an
        upstream base: defs, names, ``self._x = ...``."""
        names: Set[str] = set()

        def visit(node: ast.AST) -> None:
            if isinstance(node, ast.ClassDef) and self.upstream_bases(
                    module, node):
                return  # its names may be upstream's
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(
                    node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute)
                  and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name)
                  and node.value.id in ('self', 'cls')):
                names.add(node.attr)
            for child in ast.iter_child_nodes(node):
                visit(child)

        visit(module.tree)
        return {n for n in names if is_private(n)}

    # -- class resolution ---------------------------------------------
    def resolve(self, module: _Module, node: ast.AST) -> Optional[str]:
        """The dotted name ``node`` refers to through ``module``'s imports
        and classes (None if unknown)."""
        parts = _dotted(node)
        if not parts:
            return None
        head = parts[0]
        if head in module.imports:
            return '.'.join([module.imports[head]] + parts[1:])
        if head in module.classes:
            return '.'.join([module.dotted] + parts)
        return None

    def upstream_bases(self,
                       module: _Module,
                       cls: ast.ClassDef,
                       seen: FrozenSet[str] = frozenset()) -> List[type]:
        """The upstream classes ``cls`` derives from (through ours), or
        borrows methods from (``build = Runner.build_train_loop`` in its
        body: those methods then read its ``self._x``)."""
        found = []
        borrowed = [
            item.value.value for item in cls.body
            if isinstance(item, ast.Assign)
            and isinstance(item.value, ast.Attribute)
        ]
        for base in list(cls.bases) + borrowed:
            dotted = self.resolve(module, base)
            if dotted is None or dotted in seen:
                continue
            if is_upstream(dotted):
                obj = _import_upstream(dotted)
                if isinstance(obj, type):
                    found.append(obj)
                continue
            owner, _, name = dotted.rpartition('.')
            mod = self.modules.get(owner)
            if mod is not None and name in mod.classes:
                found += self.upstream_bases(mod, mod.classes[name],
                                             seen | {dotted})
        return found

    def class_names(self, module: _Module,
                    cls: ast.ClassDef) -> Dict[str, str]:
        names: Dict[str, str] = {}
        for base in self.upstream_bases(module, cls):
            names.update(upstream_class_names(base))
        return names

    # -- the scan ------------------------------------------------------
    def scan(self) -> List[Finding]:
        findings: List[Finding] = []
        for module in self.modules.values():
            if module.path.startswith(EXEMPT):
                continue
            findings += _FileScan(self, module).run()
        return sorted(set(findings))


class _FileScan(ast.NodeVisitor):

    def __init__(self, scanner: Scanner, module: _Module) -> None:
        self.scanner = scanner
        self.module = module
        self.upstream = upstream_private_names()
        self.found: List[Finding] = []
        self.class_stack: List[Dict[str, str]] = []
        self.self_names: List[Optional[str]] = []
        self.methods: Set[ast.AST] = set()

    def run(self) -> List[Finding]:
        self.visit(self.module.tree)
        return self.found

    def add(self, node: ast.AST, kind: str, name: str, detail: str) -> None:
        self.found.append(
            Finding(self.module.path, node.lineno, kind, name, detail))

    # classes and methods
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        names = self.scanner.class_names(self.module, node)
        for item in node.body:
            defined = []
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined = [item.name]
            elif isinstance(item, (ast.Assign, ast.AnnAssign)):
                targets = item.targets if isinstance(
                    item, ast.Assign) else [item.target]
                defined = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in defined:
                if name in names:
                    self.add(item, 'override', name,
                             f'{node.name} overrides {names[name]}.{name}')
        self.methods.update(
            item for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
        self.class_stack.append(names)
        self.self_names.append(None)  # the class body has no self
        self.generic_visit(node)
        self.self_names.pop()
        self.class_stack.pop()

    def visit_FunctionDef(self, node) -> None:
        if node in self.methods:  # a method: its first argument is self
            args = node.args.posonlyargs + node.args.args
            first = args[0].arg if args else None
        else:  # a nested function sees its method's self
            first = self.self_names[-1] if self.self_names else None
        self.self_names.append(first)
        self.generic_visit(node)
        self.self_names.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    # imports
    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self.module.resolve_from(node)
        if is_upstream(base):
            for a in node.names:
                dotted = f'{base}.{a.name}'
                if any(is_private(p) for p in dotted.split('.')):
                    self.add(node, 'import', dotted, 'private upstream name')

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if is_upstream(a.name) and any(
                    is_private(p) for p in a.name.split('.')):
                self.add(node, 'import', a.name, 'private upstream module')

    # attributes
    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr, value = node.attr, node.value
        dotted = self.scanner.resolve(self.module, value)
        store = isinstance(node.ctx, (ast.Store, ast.Del))
        if attr in INTERNALS and is_upstream(dotted):
            self.add(node, 'internals', f'{dotted}.{attr}',
                     'reaches into an upstream function')
        elif is_private(attr):
            self._private_attribute(node, attr, value, dotted)
        elif store and is_upstream(dotted):
            self.add(node, 'rebind', f'{dotted}.{attr}',
                     'assigns an attribute of an upstream module or class')
        self.generic_visit(node)

    def _private_attribute(self, node, attr, value, dotted) -> None:
        if isinstance(value, ast.Call) and _call_name(value) == 'super':
            names = self.class_stack[-1] if self.class_stack else {}
            if attr in names:
                self.add(node, 'super', attr,
                         f'super().{attr} of {names[attr]}')
            return
        if (isinstance(value, ast.Name) and self.self_names
                and value.id == self.self_names[-1]):
            names = self.class_stack[-1] if self.class_stack else {}
            if attr in names:
                self.add(node, 'self', attr,
                         f'{value.id}.{attr} of {names[attr]}')
            return
        if is_upstream(dotted):
            self.add(node, 'attribute', f'{dotted}.{attr}',
                     'private attribute of an upstream name')
        elif attr in self.upstream and attr not in self.scanner.ours:
            self.add(node, 'attribute', attr,
                     'an upstream private name our code does not define')

    # strings
    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            m = _DOTTED_PRIVATE.match(node.value)
            if m:
                self.add(node, 'string', node.value,
                         'names a private upstream name')

    def visit_Call(self, node: ast.Call) -> None:
        if _call_name(node) in ('getattr', 'setattr', 'hasattr', 'delattr',
                                'object') and len(node.args) >= 2:
            arg = node.args[1]
            if (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    and arg.value in self.upstream):
                self.add(node, 'string', arg.value,
                         f'{_call_name(node)}(..., {arg.value!r})')
        self.generic_visit(node)


def scan(root: str) -> List[Finding]:
    """Every private upstream name reached by the code under ``root``."""
    return Scanner(root).scan()


def main(argv: List[str]) -> int:
    root = argv[0] if argv else osp.dirname(
        osp.dirname(osp.dirname(osp.abspath(__file__))))
    findings = scan(root)
    for f in findings:
        print(f)
    print(f'{len(findings)} finding(s) in {root}')
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

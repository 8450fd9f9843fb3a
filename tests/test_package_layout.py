"""The package boundaries of docs/architecture.md, checked in fresh
interpreters: importing the method package changes nothing in torch; the
method package never imports fgvc_aam_tools; the data generator imports
neither MMPretrain nor the method package; ``projects`` is a namespace."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; the JSON it prints last."""
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300, cwd='/')
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_method_package_does_not_allow_list_anything():
    """Before issue 15 the import allow-listed mmengine's globals (torch
    adds its own when its submodules are imported: not ours to check)."""
    out = run_python(
        'import json, torch\n'
        'import projects.fgvc_aam\n'
        'from mmengine.logging import HistoryBuffer\n'
        'import numpy as np\n'
        'safe = torch.serialization.get_safe_globals()\n'
        'print(json.dumps([HistoryBuffer in safe, np.ndarray in safe, '
        'getattr in safe]))')
    assert out == [False, False, False]


def test_the_allow_list_is_switched_on_explicitly():
    out = run_python(
        'import json, torch\n'
        'from mmengine.logging import HistoryBuffer\n'
        'from fgvc_aam_tools.runtime_fixes import allow_mmengine_checkpoints\n'
        'before = HistoryBuffer in torch.serialization.get_safe_globals()\n'
        'allow_mmengine_checkpoints()\n'
        'after = HistoryBuffer in torch.serialization.get_safe_globals()\n'
        'print(json.dumps(dict(before=before, after=after)))')
    assert out == dict(before=False, after=True)


def test_the_method_package_does_not_import_the_tools_package():
    out = run_python(
        'import json, sys\n'
        'import projects.fgvc_aam\n'
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'fgvc_aam_tools')))")
    assert out == []
    sources = glob.glob(osp.join(ROOT, 'projects', 'fgvc_aam', '**', '*.py'),
                        recursive=True)
    assert sources
    imports = re.compile(r'^\s*(from|import)\s+fgvc_aam_tools\b', re.M)
    for path in sources:
        with open(path) as f:
            assert not imports.search(f.read()), path


def test_the_generator_imports_neither_mmpretrain_nor_the_method_package():
    out = run_python(
        'import json, sys\n'
        'import fgvc_aam_tools.synthetic_fgvc\n'
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    assert 'fgvc_aam_tools' in out
    for name in ('mmpretrain', 'mmengine', 'mmcv', 'projects', 'torch'):
        assert name not in out


def test_projects_is_a_namespace_package():
    """Other OpenMMLab projects install ``projects.*`` too: ours must not
    own ``projects`` itself."""
    out = run_python(
        'import json, projects, projects.fgvc_aam\n'
        "print(json.dumps(dict(file=getattr(projects, '__file__', None), "
        'path=[str(p) for p in projects.__path__])))')
    assert out['file'] is None
    assert not osp.exists(osp.join(ROOT, 'projects', '__init__.py'))

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

from tests.helpers import ROOT


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; the JSON it prints last."""
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300, cwd='/')
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_method_package_changes_nothing_else():
    """One fresh interpreter: importing ``projects.fgvc_aam`` allow-lists
    nothing in torch (before issue 15 it allow-listed mmengine's globals;
    torch adds its own when its submodules are imported: not ours to
    check), imports nothing of ``fgvc_aam_tools``, and ``projects`` is a
    namespace (other OpenMMLab projects install ``projects.*`` too: ours
    must not own ``projects`` itself). The tools' safe loader is then
    switched on explicitly, and still allow-lists nothing process-wide
    (issue 22: only around its own loads)."""
    out = run_python(
        'import json, sys, torch\n'
        'import numpy as np\n'
        'from mmengine.logging import HistoryBuffer\n'
        'import projects, projects.fgvc_aam\n'
        'def allowed():\n'
        '    safe = torch.serialization.get_safe_globals()\n'
        '    return [HistoryBuffer in safe, np.ndarray in safe, '
        'getattr in safe]\n'
        'after_import = allowed()\n'
        "tools = sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'fgvc_aam_tools')\n"
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        "before = CheckpointLoader._schemes[''].__name__\n"
        'from projects.fgvc_aam_hardening.runtime_fixes import '
        'allow_mmengine_checkpoints\n'
        'allow_mmengine_checkpoints()\n'
        "print(json.dumps(dict(after_import=after_import, tools=tools, "
        "after_call=allowed(), before=before, "
        "loader=CheckpointLoader._schemes[''].__name__, "
        "file=getattr(projects, '__file__', None))))")
    assert out['after_import'] == [False, False, False]
    assert out['tools'] == []
    # nothing allow-listed process-wide, ever; local files go through ours
    assert out['after_call'] == [False, False, False]
    assert out['before'] == 'load_from_local'
    assert out['loader'] == 'load_checkpoint_file'
    assert out['file'] is None
    assert not osp.exists(osp.join(ROOT, 'projects', '__init__.py'))


def _imports_in(package: str, pattern: str) -> list:
    """The source files of ``projects/<package>`` that import ``pattern``."""
    imports = re.compile(r'^\s*(from|import)\s+' + pattern + r'\b', re.M)
    sources = glob.glob(osp.join(ROOT, 'projects', package, '**', '*.py'),
                        recursive=True)
    assert sources, package
    found = []
    for path in sources:
        with open(path) as f:
            if imports.search(f.read()):
                found.append(path)
    return found


def test_the_layers_import_downwards_only():
    """tools -> hardening -> method package (docs/architecture.md): the
    method package imports neither the hardening nor the tools package;
    the hardening package does not import the tools package."""
    assert _imports_in('fgvc_aam', 'fgvc_aam_tools') == []
    assert _imports_in('fgvc_aam', r'projects\.fgvc_aam_hardening') == []
    assert _imports_in('fgvc_aam_hardening', 'fgvc_aam_tools') == []


def test_the_generator_imports_neither_mmpretrain_nor_the_method_package():
    out = run_python(
        'import json, sys\n'
        'import fgvc_aam_tools.synthetic_fgvc\n'
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    assert 'fgvc_aam_tools' in out
    for name in ('mmpretrain', 'mmengine', 'mmcv', 'projects', 'torch'):
        assert name not in out

"""Crafted checkpoints through every loading path: none of their code runs,
each is refused with a message naming the file.

The pickles are written by hand (pickle opcodes) into a torch zip (or, for
the legacy pattern, a bare file); each one, if its code ran, would create
the marker file. The patterns (``CRAFTED``):

- ``getattr_eval``: the route issue 22 found. With ``builtins.getattr``
  allow-listed, ``getattr(getattr, '__self__')`` is the ``builtins``
  module, ``getattr(builtins, 'eval')`` is ``eval``, and torch's default
  allowed ``torch._tensor._rebuild_from_type_v2(func, type, args, state)``
  calls ``func(*args)``: ``eval`` runs, returns a tensor, the load ends
  without complaint.
- ``getattr_globals``: the same reach through an allowed function's
  ``__globals__`` (``getattr(HistoryBuffer.mean, '__globals__')``), its
  ``get`` then called by ``_rebuild_from_type_v2``.
- ``legacy_pickle``: the non-zip (pre-1.6 / tar) format, the path of
  CVE-2025-32434 (``weights_only=True`` bypassed in torch <= 2.5 through
  the legacy loader): a bare pickle whose first object is
  ``posix.system(...)``.
- ``reduce_allowed_callable``: REDUCE through an allowed callable,
  ``_rebuild_from_type_v2`` handed ``builtins.exec`` named by GLOBAL.
- ``build_setstate``: BUILD on an allowed class: a ``HistoryBuffer``
  whose state sets its ``statistics_methods`` to ``builtins.eval``
  (called later by the message hub) through the ``(dict, slots)`` form.
- ``persistent_load``: a persistent id whose storage type is
  ``getattr(getattr, '__self__').exec`` and whose key climbs out of the
  archive (``../../``), the tricks used against ``persistent_load``.
"""
import os
import os.path as osp
import struct
import sys

import pytest
import torch

from tests.helpers import (class_names, data_options, python_tool, run,
                           train_cmd, write_random_checkpoint)

pytestmark = pytest.mark.reliability  # malformed (hostile) input

CONFIG = 'tests/configs/tiny_two_branch_crop.py'


def _str(text: str) -> bytes:
    data = text.encode()
    return b'X' + struct.pack('<I', len(data)) + data  # BINUNICODE


def _global(module: str, name: str) -> bytes:
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


GETATTR = _global('builtins', 'getattr')
REBUILD = _global('torch._tensor', '_rebuild_from_type_v2')
TENSOR = _global('torch', 'Tensor')
BUFFER = _global('mmengine.logging.history_buffer', 'HistoryBuffer')


def _call(func: bytes, *args: bytes) -> bytes:
    return func + b'(' + b''.join(args) + b'tR'  # MARK ... TUPLE REDUCE


def _eval_via_getattr() -> bytes:
    builtins = _call(GETATTR, GETATTR, _str('__self__'))
    return _call(GETATTR, builtins, _str('eval'))


def _checkpoint(value: bytes) -> bytes:
    """``{'state_dict': {}, 'meta': value}`` as protocol-2 pickle."""
    return (b'\x80\x02}' + _str('state_dict') + b'}s' + _str('meta') + value
            + b's.')


def crafted_pickles(marker: str) -> dict:
    code = (f"open({marker!r}, 'w').close() or "
            "__import__('torch').zeros(1)")
    run_code = b'(' + _str(code) + b't}'  # args tuple, empty state
    return {
        'getattr_eval': _checkpoint(_call(
            REBUILD, _eval_via_getattr(), TENSOR, run_code)),
        'getattr_globals': _checkpoint(_call(
            REBUILD,
            _call(GETATTR, _call(GETATTR, _call(GETATTR, BUFFER,
                                                _str('mean')),
                                 _str('__globals__')), _str('get')),
            TENSOR, b'(' + _str('__builtins__') + b't}')),
        'reduce_allowed_callable': _checkpoint(_call(
            REBUILD, _global('builtins', 'exec'), TENSOR, run_code)),
        'build_setstate': _checkpoint(
            _call(BUFFER) + b'(N}' + _str('statistics_methods') + b'}'
            + _str('mean') + _global('builtins', 'eval') + b'sstb'),
        'persistent_load': _checkpoint(
            _call(_global('torch._utils', '_rebuild_tensor_v2'),
                  b'(' + _str('storage')
                  + _call(GETATTR, _call(GETATTR, GETATTR,
                                         _str('__self__')), _str('exec'))
                  + _str('../../' + code) + _str('cpu') + b'K\x01tQ',
                  b'K\x00', b'K\x01\x85', b'K\x01\x85', b'\x89',
                  _global('collections', 'OrderedDict') + b')R')),
    }


CRAFTED = ('getattr_eval', 'getattr_globals', 'legacy_pickle',
           'reduce_allowed_callable', 'build_setstate', 'persistent_load')


def write_torch_zip(path: str, pickle_bytes: bytes) -> str:
    """A zip archive as ``torch.save`` writes it, holding ``pickle_bytes``
    as its ``data.pkl``."""
    writer = torch._C.PyTorchFileWriter(path)
    writer.write_record('data.pkl', pickle_bytes, len(pickle_bytes))
    writer.write_record('byteorder', b'little', 6)
    writer.write_end_of_file()
    return path


@pytest.fixture(scope='module')
def crafted(tmp_path_factory):
    """``(folder, marker, {pattern: path})``: one crafted file per
    pattern; no test may create ``marker``."""
    root = tmp_path_factory.mktemp('crafted')
    marker = str(root / 'MARKER')
    pickles = crafted_pickles(marker)
    files = {name: write_torch_zip(str(root / f'{name}.pth'), data)
             for name, data in pickles.items()}
    legacy = str(root / 'legacy_pickle.pth')
    with open(legacy, 'wb') as f:
        f.write(b'\x80\x02' + _call(_global('posix', 'system'),
                                    _str(f'touch {marker}')) + b'.')
    files['legacy_pickle'] = legacy
    return str(root), marker, files


@pytest.fixture(autouse=True)
def fresh_marker(crafted):
    """Each test starts without the marker: it is the oracle of that
    test alone."""
    if osp.exists(crafted[1]):
        os.remove(crafted[1])


def assert_refused(error_text: str, path: str, marker: str) -> None:
    assert not osp.exists(marker), 'the crafted checkpoint ran code'
    assert path in error_text, error_text[-3000:]
    assert 'refused' in error_text or 'not in the zip format' in \
        error_text, error_text[-3000:]


def test_the_getattr_route_runs_code_with_the_old_global_allow_list(
        crafted):
    """The oracle that the fixture's main pattern is live: torch's own
    ``weights_only`` loader with ``getattr`` allow-listed (main's
    ``allow_mmengine_checkpoints``) runs it; without it, refuses it."""
    root, marker, files = crafted
    probe = osp.join(root, 'probe')
    code = (
        'import sys, torch\n'
        'try:\n'
        '    torch.load(sys.argv[1], weights_only=True)\n'
        'except Exception:\n'
        '    pass\n'
        'torch.serialization.add_safe_globals([getattr])\n'
        'torch.load(sys.argv[1], weights_only=True)\n')
    pickles = crafted_pickles(probe)
    path = write_torch_zip(osp.join(root, 'probe.pth'),
                           pickles['getattr_eval'])
    run([sys.executable, '-c', code, path])
    assert osp.exists(probe)
    os.remove(probe)


@pytest.mark.parametrize('pattern', CRAFTED)
def test_our_loader_refuses_each_pattern(crafted, pattern):
    from projects.fgvc_aam.engine import (CheckpointRefusedError,
                                          load_checkpoint_file)
    _, marker, files = crafted
    with pytest.raises(CheckpointRefusedError) as err:
        load_checkpoint_file(files[pattern], map_location='cpu')
    assert_refused(str(err.value), files[pattern], marker)


@pytest.mark.parametrize('pattern', CRAFTED)
def test_mmengine_loads_go_through_it(crafted, pattern):
    """``Runner.load_checkpoint`` / ``resume``, ``load_from`` and
    ``init_cfg=Pretrained`` all read local files through mmengine's
    ``CheckpointLoader``, which the tools point at our loader."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from projects.fgvc_aam_hardening.runtime_fixes import \
        allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    _, marker, files = crafted
    with pytest.raises(Exception) as err:
        CheckpointLoader.load_checkpoint(files[pattern], map_location='cpu')
    assert_refused(str(err.value), files[pattern], marker)
    assert 'HistoryBuffer' not in str(torch.serialization.get_safe_globals())


@pytest.mark.parametrize('pattern', CRAFTED)
def test_the_inferencer_and_picture_tools_loader_refuses(crafted, pattern):
    """``init_fitting_model`` (``FGVCInferencer``, ``demo/image_demo.py``,
    ``tools/visualization``, ``tools/deployment/pytorch2onnx.py``) with no
    tool set-up at all."""
    from mmengine.config import Config

    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    _, marker, files = crafted
    with pytest.raises(Exception) as err:
        FGVCInferencer(Config.fromfile(CONFIG), pretrained=files[pattern])
    assert_refused(str(err.value), files[pattern], marker)


# -------------------------------------------------- every tool, end to end
def _tool_refuses(crafted, *args: str, path: str = None) -> None:
    _, marker, files = crafted
    proc = python_tool(*args, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert_refused(out, path or files['getattr_eval'], marker)


@pytest.fixture(scope='module')
def opts(synthetic_root):
    return data_options(synthetic_root, len(class_names(synthetic_root)))


@pytest.mark.slow
@pytest.mark.e2e
def test_tools_test_refuses(crafted, opts, tmp_path):
    _tool_refuses(crafted, 'tools/test.py', CONFIG,
                  crafted[2]['getattr_eval'], '--work-dir',
                  str(tmp_path / 'w'), '--cfg-options', *opts)


@pytest.mark.slow
@pytest.mark.e2e
def test_train_resume_refuses(crafted, opts, tmp_path):
    """``--resume`` alone takes the work dir's newest checkpoint."""
    work = tmp_path / 'w'
    work.mkdir()
    with open(crafted[2]['getattr_eval'], 'rb') as f:
        (work / 'epoch_1.pth').write_bytes(f.read())
    cmd = train_cmd(CONFIG, work, '--resume', '--cfg-options', *opts)
    _tool_refuses(crafted, *cmd[1:], path=str(work / 'epoch_1.pth'))


@pytest.mark.slow
@pytest.mark.e2e
def test_train_load_from_refuses(crafted, opts, tmp_path):
    cmd = train_cmd(CONFIG, tmp_path / 'w', '--cfg-options', *opts,
                    f'load_from={crafted[2]["getattr_eval"]}')
    _tool_refuses(crafted, *cmd[1:])


@pytest.mark.slow
@pytest.mark.e2e
def test_image_demo_refuses(crafted, tmp_path):
    import cv2
    import numpy as np
    img = str(tmp_path / 'bird.png')
    cv2.imwrite(img, np.full((40, 40, 3), 30, np.uint8))
    _tool_refuses(crafted, 'demo/image_demo.py', img, CONFIG,
                  crafted[2]['getattr_eval'])


@pytest.mark.slow
@pytest.mark.e2e
def test_pytorch2onnx_refuses(crafted, tmp_path):
    _tool_refuses(crafted, 'tools/deployment/pytorch2onnx.py', CONFIG,
                  crafted[2]['getattr_eval'], '--out',
                  str(tmp_path / 'm.onnx'))


@pytest.mark.slow
@pytest.mark.parametrize('tool', ['vis_localization.py', 'vis_cam.py'])
@pytest.mark.e2e
def test_picture_tools_refuse(crafted, opts, tmp_path, tool):
    _tool_refuses(crafted, f'tools/visualization/{tool}', CONFIG,
                  '--checkpoint', crafted[2]['getattr_eval'], '--split',
                  'test', '--num', '1', '--out', str(tmp_path / 'v.png'),
                  '--cfg-options', *opts)


def test_the_pretrained_cache_refuses(crafted, tmp_path):
    """A crafted ``pretrained.pth`` in the cache is refused before it is
    handed to a fine-tuning run."""
    from fgvc_aam_tools.compare.pretrain import (cached_checkpoint,
                                                 ensure_pretrained)
    _, marker, files = crafted
    path, _ = cached_checkpoint(str(tmp_path))
    os.makedirs(osp.dirname(path))
    with open(files['getattr_eval'], 'rb') as f, open(path, 'wb') as g:
        g.write(f.read())
    with pytest.raises(Exception) as err:
        ensure_pretrained(str(tmp_path), stable=None, log=lambda m: None)
    assert_refused(str(err.value), path, marker)


def test_a_plain_mmengine_checkpoint_is_refused_with_a_way_out(tmp_path):
    """Nothing is added to torch's allow-list (no ``getattr``, no function,
    no class): plain mmengine's ``HistoryBuffer`` (whose pickle names its
    statistics methods through ``getattr``) and numpy values are refused,
    naming the file and what to do; the same weights without the message
    hub (what MMPretrain's ``publish_model.py`` keeps) and our own plain
    checkpoints load."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    from projects.fgvc_aam.engine import (CheckpointRefusedError,
                                          load_checkpoint_file)
    buf = HistoryBuffer()
    buf.update(1.5)
    path = str(tmp_path / 'mm.pth')
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'log_scalars': {'loss': buf},
                                'runtime_info': {'a': np.arange(3)}}}, path)
    with pytest.raises(CheckpointRefusedError) as err:
        load_checkpoint_file(path)
    assert path in str(err.value) and 'HistoryBuffer' in str(err.value)
    assert 'publish_model.py' in str(err.value)
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'epoch': 3}},
               str(tmp_path / 'published.pth'))
    ckpt = load_checkpoint_file(str(tmp_path / 'published.pth'))
    assert ckpt['meta'] == {'epoch': 3}
    torch.testing.assert_close(ckpt['state_dict']['w'], torch.ones(2))
    write_random_checkpoint(CONFIG, str(tmp_path / 'ours.pth'))
    assert 'state_dict' in load_checkpoint_file(str(tmp_path / 'ours.pth'))

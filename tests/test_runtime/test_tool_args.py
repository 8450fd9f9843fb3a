"""The flags of tools/train.py and tools/test.py are checked before any
work (issue 22): MMPretrain's own flags, each refusal naming the flag and
value; nothing is written by a refused run."""
import os.path as osp
import subprocess
import sys
from argparse import Namespace

import pytest

from fgvc_aam_tools.tool_args import (check_test_args, check_train_args,
                                      new_test_folder)
from tests.helpers import ROOT, TINY_CONFIG


@pytest.fixture
def files(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    ckpt.write_bytes(b'x')
    (tmp_path / 'old.pkl').write_bytes(b'mine')
    (tmp_path / 'a_file').write_text('mine')
    return tmp_path


def _test_args(files, **kw):
    args = dict(config=osp.join(ROOT, TINY_CONFIG),
                checkpoint=str(files / 'epoch_1.pth'), work_dir=None,
                show_dir=None, out=None, out_item=None)
    args.update(kw)
    return Namespace(**args)


@pytest.mark.parametrize('change,message', [
    (dict(out='{d}/old.pkl'), "--out '{d}/old.pkl' exists"),
    (dict(out='{d}/missing/r.pkl'), "folder '{d}/missing' does not exist"),
    (dict(out='{d}/r.json'), 'pred is written as .pkl / .pickle, not .json'),
    (dict(out='{d}/r.txt', out_item='metrics'),
     'metrics is written as .json / .yaml / .yml / .pkl / .pickle, not .txt'),
    (dict(out_item='metrics'), '--out-item metrics needs --out FILE'),
    (dict(checkpoint='{d}/nope.pth'), "checkpoint '{d}/nope.pth': no such"),
    (dict(config='{d}/nope.py'), "config '{d}/nope.py': no such file"),
    (dict(work_dir='{d}/a_file'), "--work-dir '{d}/a_file' exists and is "
     'not a folder'),
    (dict(show_dir='{d}/a_file'), '--show-dir'),
])
def test_bad_test_flags_are_refused(files, change, message):
    change = {k: v.format(d=files) for k, v in change.items()}
    with pytest.raises(SystemExit) as info:
        check_test_args(_test_args(files, **change))
    assert str(info.value).startswith('tools/test.py: error: ')
    assert message.format(d=files) in str(info.value)


@pytest.mark.parametrize('out,item', [('r.pkl', None), ('r.pickle', 'pred'),
                                      ('r.json', 'metrics'),
                                      ('r.yaml', 'metrics')])
def test_good_test_flags_pass(files, out, item):
    args = _test_args(files, out=str(files / out), out_item=item,
                      work_dir=str(files / 'new'))
    assert check_test_args(args) is args


@pytest.mark.parametrize('change,message', [
    (dict(resume='{d}/nope.pth'), "--resume '{d}/nope.pth': no such file"),
    (dict(work_dir='{d}/a_file'), "--work-dir '{d}/a_file' exists"),
])
def test_bad_train_flags_are_refused(files, change, message):
    args = dict(config=osp.join(ROOT, TINY_CONFIG), work_dir=None,
                resume=None)
    args.update({k: v.format(d=files) for k, v in change.items()})
    with pytest.raises(SystemExit, match=message.format(d=files)):
        check_train_args(Namespace(**args))
    for resume in (None, 'auto', str(files / 'epoch_1.pth')):
        check_train_args(Namespace(config=args['config'], work_dir=None,
                                   resume=resume))


def test_each_test_run_gets_its_own_folder(tmp_path):
    a, b = new_test_folder(str(tmp_path)), new_test_folder(str(tmp_path))
    assert a != b and osp.isdir(a) and osp.isdir(b)
    assert osp.dirname(a) == str(tmp_path)
    assert osp.basename(a).startswith('test_')


@pytest.mark.slow  # one tools/test.py start: imports MMPretrain
@pytest.mark.e2e
def test_test_tool_refuses_an_existing_out_before_any_work(files):
    """The wiring: tools/test.py exits non-zero naming the flag, the file
    keeps its bytes and no work dir is made."""
    work = files / 'work'
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', TINY_CONFIG,
         str(files / 'epoch_1.pth'), '--work-dir', str(work), '--out',
         str(files / 'old.pkl')], cwd=ROOT, capture_output=True, text=True,
        env={'PYTHONPATH': ROOT, 'PATH': '/usr/bin:/bin'}, timeout=120)
    assert proc.returncode != 0
    assert f"--out '{files / 'old.pkl'}' exists" in proc.stderr
    assert (files / 'old.pkl').read_bytes() == b'mine'
    assert not work.exists()

"""tools/analysis_tools/crash_test.py, reduced: 3 SIGKILLs (two aimed
inside checkpoint writes), 2 epochs, tiny data; the resumed run ends with
the uninterrupted run's weights, bit for bit.

Oracles: the two final checkpoints read back here with plain ``torch.load``
(not the tool's own comparison), and the killed run's log, which must show
that an unfinished checkpoint write was found and removed on a resume.
"""
import os.path as osp
import re

import pytest
import torch

from tests.helpers import assert_state_dicts_equal, python_tool

pytestmark = [pytest.mark.slow, pytest.mark.reliability, pytest.mark.e2e]


def test_three_kills_then_the_same_weights(tmp_path):
    work = str(tmp_path / 'crash')
    proc = python_tool(
        'tools/analysis_tools/crash_test.py', '--kills', '3', '--epochs',
        '2', '--work-dir', work, '--save-pause', '0.5', '--synthetic',
        'num_classes=5', 'images_per_class=5', 'train_per_class=4',
        'image_size=64', timeout=300)
    summary = proc.stdout.strip().splitlines()[-1]
    found = re.match(r'kills: (\d+) \((\d+) inside a checkpoint write\), '
                     r'resumes: (\d+), max weight difference: (\S+),',
                     summary)
    assert found, proc.stdout[-3000:]
    kills, in_write, resumes, diff = found.groups()
    assert (int(kills), int(resumes)) == (3, 3)
    assert int(in_write) >= 1
    assert float(diff) == 0.
    ref, crashed = (torch.load(osp.join(work, run, 'epoch_2.pth'),
                               weights_only=True)['state_dict']
                    for run in ('reference', 'crashed'))
    assert_state_dicts_equal(ref, crashed, 'final weights')
    with open(osp.join(work, 'crashed.log')) as f:
        assert 'an unfinished checkpoint save' in f.read()

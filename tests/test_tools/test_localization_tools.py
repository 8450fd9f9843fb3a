"""Smoke tests of the localization tools on a tiny random-init two-branch
model and a few generated images (subprocesses, as a user runs them)."""
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from tests.helpers import python_tool

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CONFIG = 'tests/configs/tiny_two_branch.py'


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('imgs')
    rng = np.random.default_rng(0)
    for c in range(3):
        (root / f'class_{c}').mkdir()
        for k in range(2):
            img = (rng.random((48, 80, 3)) * 60).astype(np.uint8)
            cv2.rectangle(img, (10 + 10 * c, 8), (50, 40),
                          (0, 200, 255 - 80 * c), -1)
            cv2.imwrite(str(root / f'class_{c}' / f'img_{k}.png'), img)
    return str(root)


def _check_png(path, min_h=100, min_w=100):
    img = cv2.imread(path)
    assert img is not None, path
    assert img.shape[0] >= min_h and img.shape[1] >= min_w
    assert img.std() > 0  # not blank


def test_vis_localization_on_folder(image_folder, tmp_path):
    out = str(tmp_path / 'loc.png')
    proc = python_tool('tools/visualization/vis_localization.py', CONFIG,
                       '--img-dir', image_folder, '--num', '4', '--out', out)
    assert 'saved 4 images' in proc.stdout
    _check_png(out)


def test_vis_cam_two_branch_on_split(image_folder, tmp_path):
    out = str(tmp_path / 'cam.png')
    proc = python_tool(
        'tools/visualization/vis_cam.py', CONFIG, '--split', 'test', '--num',
        '3', '--out', out, '--cfg-options',
        f'test_dataloader.dataset.data_root={image_folder}')
    assert 'saved 3 images (two-branch model)' in proc.stdout
    _check_png(out)


def test_vis_cam_single_branch(image_folder, tmp_path):
    out = str(tmp_path / 'cam1.png')
    proc = python_tool(
        'tools/visualization/vis_cam.py', 'tests/configs/tiny_single_branch.py',
        '--img-dir', image_folder, '--num', '2', '--method', 'gradcam++',
        '--out', out)
    assert 'saved 2 images (one-branch model)' in proc.stdout
    _check_png(out)


def test_benchmark_localizer_prints_the_three_figures():
    proc = python_tool('tools/analysis_tools/benchmark_localizer.py',
                       '--depth', '18', '--img-size', '64', '--batch', '2',
                       '--iters', '1', '--num-classes', '5')
    out = proc.stdout
    assert re.search(r'\(a\) two / single\s+:\s+[\d.]+', out), out
    assert re.search(r'\(b\) localizer\s+:\s+[\d.]+ ms = [\d.]+ %', out)
    assert 'identical boxes: True' in out
    assert osp.isfile('tools/analysis_tools/benchmark_localizer.py')

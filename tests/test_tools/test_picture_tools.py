"""The picture tools see what tools/test.py sees: same model building (the
config's data_preprocessor), same predictions, same boxes."""
import json
import os.path as osp
import pickle

import pytest

from tests.helpers import (class_names, data_options, python_tool,
                           write_random_checkpoint)

pytestmark = pytest.mark.slow

CONFIG = 'tests/configs/tiny_two_branch_crop.py'


@pytest.fixture(scope='module')
def checkpoint(synthetic_root, tmp_path_factory):
    classes = class_names(synthetic_root)
    path = str(tmp_path_factory.mktemp('ckpt') / 'random.pth')
    return write_random_checkpoint(
        CONFIG, path, dict(model=dict(head=dict(num_classes=len(classes)))),
        classes)


@pytest.mark.e2e
def test_vis_localization_equals_tools_test(synthetic_root, checkpoint,
                                            tmp_path):
    """Oracle: tools/test.py's dumped predictions (MMPretrain's Runner) on
    the same checkpoint and test images."""
    classes = class_names(synthetic_root)
    opts = data_options(synthetic_root, len(classes))
    dump = str(tmp_path / 'preds.pkl')
    python_tool('tools/test.py', CONFIG, checkpoint, '--work-dir',
                str(tmp_path / 'work'), '--out', dump, '--cfg-options', *opts)
    with open(dump, 'rb') as f:
        runner = {osp.basename(r['img_path']): r for r in pickle.load(f)}

    out_json = str(tmp_path / 'vis.json')
    proc = python_tool('tools/visualization/vis_localization.py', CONFIG,
                       '--checkpoint', checkpoint, '--split', 'test',
                       '--num', '100', '--out', str(tmp_path / 'vis.png'),
                       '--out-json', out_json, '--cfg-options', *opts)
    assert f'saved {len(runner)} images' in proc.stdout
    with open(out_json) as f:
        records = json.load(f)
    assert sorted(osp.basename(r['img_path']) for r in records) == sorted(
        runner)
    for rec in records:
        ref = runner[osp.basename(rec['img_path'])]
        assert rec['pred_label'] == int(ref['pred_label'])
        assert rec['pred_class'] == classes[rec['pred_label']]
        assert rec['pred_score'] == pytest.approx(
            float(ref['pred_score'].max()), abs=1e-5)
        assert rec['pred_bbox'] == pytest.approx(
            ref['pred_bboxes'].reshape(-1).tolist(), abs=1e-4)
        assert rec['gt_label'] == int(ref['gt_label'])
        assert rec['gt_bbox'] == pytest.approx(
            ref['gt_bboxes'].reshape(-1).tolist(), abs=1e-4)


@pytest.mark.e2e
def test_vis_cam_draws_both_branches(synthetic_root, checkpoint, tmp_path):
    """Two images of a two-branch model: raw panel and object panel per
    image (oracle: the layout, 2 images x 2 panels of 3 in at 100 dpi in
    one row); the object panel (second) is not blank, also without
    ground-truth boxes (an image folder)."""
    import cv2
    out = str(tmp_path / 'cam.png')
    proc = python_tool('tools/visualization/vis_cam.py', CONFIG,
                       '--checkpoint', checkpoint, '--img-dir',
                       osp.join(synthetic_root, 'images'), '--num', '2',
                       '--out', out, '--cfg-options',
                       'model.head.num_classes=4')
    assert 'saved 2 images (two-branch model)' in proc.stdout
    img = cv2.imread(out)
    assert img.shape[:2] == (300, 1200)
    assert img[40:280, 320:580].std() > 5  # the object panel of image 0


def _vis_cam():
    import importlib.util

    from tests.helpers import ROOT
    spec = importlib.util.spec_from_file_location(
        'vis_cam', osp.join(ROOT, 'tools/visualization/vis_cam.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vis_cam_explains_the_shown_class_and_titles_do_not_overlap(
        synthetic_root, checkpoint):
    """Oracle: FGVCInferencer's final prediction (raw + object logits) on
    the same three images is the class every CAM explains by default;
    ``--target-class 2`` explains class 2. No two titles, panels or the
    colour bar overlap (their drawn extents), and the colour bar is
    labelled."""
    import itertools
    import os

    from mmengine.config import Config

    from projects.fgvc_aam.apis import FGVCInferencer
    from tests.helpers import ROOT
    tool = _vis_cam()
    folder = osp.join(synthetic_root, 'images')
    opts = data_options(synthetic_root, len(class_names(synthetic_root)))
    common = [CONFIG, '--checkpoint', checkpoint, '--img-dir', folder,
              '--num', '3', '--cfg-options', *opts]
    fig, info = tool.build_figure(tool.parse_args(common))
    files = sorted(
        osp.join(root, f) for root, _, names in os.walk(folder)
        for f in names)[:3]
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.head.num_classes = len(class_names(synthetic_root))
    ref = FGVCInferencer(cfg, pretrained=checkpoint)(files)
    assert info['predicted'] == [r['pred_label'] for r in ref]
    assert info['targets'] == info['predicted']

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        if ax.images or ax.collections or ax.get_ylabel():
            boxes.append(('axes', ax.get_window_extent(renderer)))
        if ax.get_title():
            boxes.append(('title', ax.title.get_window_extent(renderer)))
    assert sum(kind == 'title' for kind, _ in boxes) == 6
    for (ka, a), (kb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (ka, a, kb, b)
    bars = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in bars] == [tool.CAM_LABEL]

    _, chosen = tool.build_figure(
        tool.parse_args([*common, '--target-class', '2']))
    assert chosen['targets'] == [2, 2, 2]

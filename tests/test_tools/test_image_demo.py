"""demo/image_demo.py and FGVCInferencer: class, score and the box in the
original image's pixels."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.helpers import python_tool, write_random_checkpoint

pytestmark = pytest.mark.slow

CONFIG = 'tests/configs/tiny_two_branch_crop.py'  # Resize 72, CenterCrop 64
CLASSES = ['alpha', 'beta', 'gamma', 'delta']


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    img = np.full((90, 150, 3), 30, np.uint8)
    cv2.rectangle(img, (40, 20), (110, 70), (0, 200, 255), -1)
    cv2.imwrite(str(root / 'bird.png'), img)
    ckpt = write_random_checkpoint(CONFIG, str(root / 'random.pth'),
                                   classes=CLASSES)
    return str(root / 'bird.png'), ckpt


def test_inferencer_box_is_the_input_box_mapped_back_by_hand(files):
    """150 x 90 -> Resize 72 x 72 (s = 0.48, 0.8) -> centre crop 64
    (offset 4, 4): x_ori = (x + 4) / 0.48, y_ori = (y + 4) / 0.8."""
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    img, ckpt = files
    inferencer = FGVCInferencer(CONFIG, pretrained=ckpt)
    sample = inferencer(img, return_datasamples=True)[0]
    x1, y1, x2, y2 = sample.pred_bboxes[0].tolist()
    hand = [(x1 + 4) / 0.48, (y1 + 4) / 0.8, (x2 + 4) / 0.48,
            (y2 + 4) / 0.8]
    assert sample.pred_bboxes_ori[0].tolist() == pytest.approx(hand,
                                                               abs=1e-3)
    result = inferencer(img)[0]
    assert result['pred_bbox'] == pytest.approx(hand, abs=1e-3)
    assert result['pred_class'] == CLASSES[result['pred_label']]


def test_inferencer_show_dir_draws_the_box(files, tmp_path):
    """Oracle: the red box outline at the hand-mapped box in the image's
    own pixels (BGR (0, 0, 255))."""
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    img, ckpt = files
    result = FGVCInferencer(CONFIG, pretrained=ckpt)(
        img, show_dir=str(tmp_path))[0]
    drawn = cv2.imread(str(tmp_path / 'bird.png'))
    assert drawn.shape == cv2.imread(img).shape
    x1, y1, x2, y2 = (int(round(v)) for v in result['pred_bbox'])
    y_mid = (y1 + y2) // 2
    assert drawn[y_mid, min(x2, 149)].tolist() == [0, 0, 255]


def test_image_demo_prints_json_and_draws(files, tmp_path):
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    img, ckpt = files
    out = str(tmp_path / 'drawn.png')
    proc = python_tool('demo/image_demo.py', img, CONFIG, ckpt,
                       '--out-file', out)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    ref = FGVCInferencer(CONFIG, pretrained=ckpt)(img)[0]
    assert result['pred_label'] == ref['pred_label']
    assert result['pred_class'] == CLASSES[ref['pred_label']]
    assert result['pred_score'] == pytest.approx(ref['pred_score'], abs=1e-5)
    assert result['bbox'] == pytest.approx(ref['pred_bbox'], abs=0.01)
    x1, y1, x2, y2 = result['bbox']
    assert 0 <= x1 < x2 <= 150 and 0 <= y1 < y2 <= 90
    drawn, orig = cv2.imread(out), cv2.imread(img)
    assert drawn.shape == orig.shape and (drawn != orig).any()
    # nothing of the user's is overwritten
    again = python_tool('demo/image_demo.py', img, CONFIG, ckpt,
                        '--out-file', out, check=False)
    assert again.returncode != 0 and 'exists' in again.stderr
    missing = python_tool('demo/image_demo.py', img + '.nope', CONFIG, ckpt,
                          check=False)
    assert missing.returncode != 0 and 'bird.png.nope' in missing.stderr
    assert osp.isfile(out)

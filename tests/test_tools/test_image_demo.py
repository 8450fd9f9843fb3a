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


@pytest.mark.e2e
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


def _fresh_inferencer(ckpt):
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    return FGVCInferencer(CONFIG, pretrained=ckpt)


def test_show_dir_never_overwrites_and_keeps_same_names_apart(files,
                                                              tmp_path):
    """An input inside ``show_dir`` keeps its bytes; two inputs called
    bird.png (two folders) give two drawings."""
    src, ckpt = files
    other = tmp_path / 'other'
    other.mkdir()
    own = tmp_path / 'bird.png'
    own.write_bytes(open(src, 'rb').read())
    (other / 'bird.png').write_bytes(open(src, 'rb').read())
    before = own.read_bytes()
    results = _fresh_inferencer(ckpt)([str(own), str(other / 'bird.png')],
                                      show_dir=str(tmp_path))
    assert own.read_bytes() == before
    outs = [r['out_file'] for r in results]
    assert outs == [str(tmp_path / 'bird_1.png'), str(tmp_path / 'bird_2.png')]
    for out in outs:
        drawn = cv2.imread(out)
        assert drawn.shape == cv2.imread(src).shape
        assert (drawn != cv2.imread(src)).any()


def test_inferencer_reads_stored_pixels_of_exif_rotated_jpeg(tmp_path,
                                                             files):
    """Oracle: the same stored pixels in a PNG (no EXIF): same scores and
    the same box, in the stored frame (150 x 90), as tools/test.py reads
    images (``color_ignore_orientation``)."""
    from PIL import Image
    _, ckpt = files
    img = np.full((90, 150, 3), 30, np.uint8)
    cv2.rectangle(img, (20, 10), (70, 60), (0, 200, 255), -1)
    jpeg = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to show
    Image.fromarray(img[..., ::-1]).save(jpeg, quality=100,
                                         exif=exif.tobytes())
    stored = cv2.imread(jpeg, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    assert stored.shape == (90, 150, 3)
    png = str(tmp_path / 'stored.png')
    cv2.imwrite(png, stored)
    inferencer = _fresh_inferencer(ckpt)
    got, ref = inferencer([jpeg, png])
    np.testing.assert_allclose(got['pred_scores'], ref['pred_scores'],
                               atol=1e-6)
    assert got['pred_bbox'] == pytest.approx(ref['pred_bbox'], abs=1e-4)


def test_label_is_drawn_inside_a_narrow_image():
    """A label wider than the image is split and shrunk: its red band
    ends before the right edge and the whole text stays in the image."""
    from projects.fgvc_aam.apis import draw_prediction
    img = np.zeros((80, 100, 3), np.uint8)
    label = 'One striped Long tailed Pale winged Bird 0.87'
    out = draw_prediction(img, label)
    red = np.all(out == (0, 0, 255), axis=2)
    assert red.any()
    cols = np.nonzero(red.any(axis=0))[0]
    assert cols.max() < out.shape[1] - 1
    # white text pixels are inside the red band's columns
    text = np.all(out > 200, axis=2)
    assert np.nonzero(text.any(axis=0))[0].max() <= cols.max()


def test_allow_partial_checkpoint_no_means_no(files, tmp_path):
    """``allow_partial_checkpoint='no'`` (what --cfg-options gives) must
    refuse a checkpoint of another class count, not load it partially;
    an unknown word is refused naming the option."""
    from mmengine.config import Config

    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import init_fitting_model
    other = write_random_checkpoint(CONFIG, str(tmp_path / 'other.pth'),
                                    {'model.head.num_classes': 7})
    for word, error in (('no', 'fit'), ('false', 'fit'), ('0', 'fit'),
                        ('maybe', 'allow_partial_checkpoint')):
        cfg = Config.fromfile(CONFIG)
        cfg.allow_partial_checkpoint = word
        with pytest.raises((RuntimeError, ValueError)) as info:
            init_fitting_model(cfg, other)
        assert error in str(info.value), (word, str(info.value))
    cfg = Config.fromfile(CONFIG)
    cfg.allow_partial_checkpoint = 'yes'
    init_fitting_model(cfg, other)  # loads what fits, with a warning


@pytest.mark.e2e
def test_image_demo_topk_folder_and_model_name(tmp_path):
    """A folder of two images and a model name of model-index.yml give
    one JSON line per image (sorted); ``topk`` is the K best of the
    inferencer's ``pred_scores``; a bad --out-file / --topk is refused
    before any work."""
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import FGVCInferencer
    name = 'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc'
    classes = [f'c{i}' for i in range(16)]
    ckpt = write_random_checkpoint(f'configs/two_branch/{name}.py',
                                   str(tmp_path / 'r.pth'), classes=classes)
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for i, stem in enumerate(('b', 'a')):
        img = np.full((100, 120, 3), 40 + 60 * i, np.uint8)
        cv2.circle(img, (50, 50), 25, (200, 100 * i, 30), -1)
        cv2.imwrite(str(folder / f'{stem}.png'), img)
    (folder / 'notes.txt').write_text('not an image')
    proc = python_tool('demo/image_demo.py', str(folder), name, ckpt,
                       '--topk', '3')
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [r['image'] for r in lines] == [
        str(folder / 'a.png'), str(folder / 'b.png')
    ]
    ref = FGVCInferencer(name, pretrained=ckpt)([r['image'] for r in lines])
    for got, want in zip(lines, ref):
        order = np.argsort(-want['pred_scores'], kind='stable')[:3]
        assert [t['pred_label'] for t in got['topk']] == order.tolist()
        assert [t['pred_score'] for t in got['topk']] == pytest.approx(
                    want['pred_scores'][order].tolist(), abs=1e-5)
        assert got['topk'][0]['pred_class'] == classes[order[0]]
        assert got['pred_label'] == order[0]
    for flags, words in ((['--out-file', str(tmp_path / 'drawn')],
                          'extension'),
                         (['--topk', '0'], '--topk')):
        bad = python_tool('demo/image_demo.py', str(folder / 'a.png'),
                          name, ckpt, *flags, check=False)
        assert bad.returncode != 0 and words in bad.stderr
        assert 'Traceback' not in bad.stderr and bad.stdout == ''
    assert not osp.exists(tmp_path / 'drawn')


def test_mmpretrain_inference_model_runs_our_model_name(tmp_path):
    """``mmpretrain.inference_model(NAME, img, pretrained=CKPT)`` (MMPretrain's
    ImageClassificationInferencer) gives the scores FGVCInferencer gives."""
    import projects.fgvc_aam  # noqa: F401
    from mmpretrain import inference_model
    from projects.fgvc_aam.apis import FGVCInferencer
    name = 'aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc'
    ckpt = write_random_checkpoint(f'configs/aam/{name}.py',
                                   str(tmp_path / 'r.pth'))
    img = np.zeros((100, 120, 3), np.uint8)
    cv2.circle(img, (60, 50), 30, (0, 180, 250), -1)
    path = str(tmp_path / 'x.png')
    cv2.imwrite(path, img)
    got = inference_model(name, path, pretrained=ckpt)
    ref = FGVCInferencer(name, pretrained=ckpt)(path)[0]
    np.testing.assert_allclose(got['pred_scores'], ref['pred_scores'],
                               atol=1e-6)

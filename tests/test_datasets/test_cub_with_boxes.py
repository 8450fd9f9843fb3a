"""CUBWithBoxes: the CUB layout parsed back, class names, boxes."""
import os.path as osp

import numpy as np
import pytest
from mmpretrain.datasets import CUB
from mmpretrain.registry import DATASETS

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets import CUBWithBoxes

from tests.helpers import TINY_SYNTHETIC, read_lines, write_cub_tree


def _table(root, fname):
    return [line.split() for line in read_lines(osp.join(root, fname))]


@pytest.mark.parametrize('split', ['train', 'test'])
def test_synthetic_layout_parsed_back(synthetic_root, split):
    ds = DATASETS.build(dict(type='CUBWithBoxes', data_root=synthetic_root,
                             split=split, with_bbox=True))
    assert isinstance(ds, CUB)
    p = TINY_SYNTHETIC
    n_train = p['num_classes'] * p['train_per_class']
    n_all = p['num_classes'] * p['images_per_class']
    assert len(ds) == (n_train if split == 'train' else n_all - n_train)
    # class names = classes.txt entries without their 'NNN.' prefix
    entries = [name for _, name in _table(synthetic_root, 'classes.txt')]
    assert ds.metainfo['classes'] == tuple(e[4:] for e in entries)
    assert len(ds.metainfo['classes']) == p['num_classes']
    # every sample against the raw files
    images = dict(_table(synthetic_root, 'images.txt'))
    labels = dict(_table(synthetic_root, 'image_class_labels.txt'))
    splits = dict(_table(synthetic_root, 'train_test_split.txt'))
    boxes = {r[0]: [float(v) for v in r[1:]]
             for r in _table(synthetic_root, 'bounding_boxes.txt')}
    want = '1' if split == 'train' else '0'
    ids = [i for i in images if splits[i] == want]
    assert len(ids) == len(ds)
    for i, idx in enumerate(ids):
        info = ds.get_data_info(i)
        assert info['img_path'] == osp.join(synthetic_root, 'images',
                                            images[idx])
        assert info['gt_label'] == int(labels[idx]) - 1
        x, y, w, h = boxes[idx]
        assert info['gt_bboxes'].dtype == np.float32
        assert info['gt_bboxes'].shape == (1, 4)
        np.testing.assert_allclose(info['gt_bboxes'], [[x, y, x + w, y + h]])
    # same samples and labels as MMPretrain's CUB (our subclass only adds)
    ref = CUB(data_root=synthetic_root, split=split, classes=entries)
    assert [d['img_path'] for d in ref.load_data_list()] == \
        [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert list(ref.get_gt_labels()) == list(ds.get_gt_labels())


def test_without_boxes_no_gt_bboxes(synthetic_root):
    ds = CUBWithBoxes(synthetic_root, split='test')
    assert 'gt_bboxes' not in ds.get_data_info(0)


def test_class_names_from_any_classes_txt(tmp_path):
    root = write_cub_tree(str(tmp_path / 'c'), [((20, 10), (1, 1, 5, 5), c,
                                                  c % 2) for c in range(3)],
                          num_classes=3)
    ds = CUBWithBoxes(root, split='test')
    assert ds.metainfo['classes'] == ('Class_1', 'Class_2', 'Class_3')
    # an explicit class list wins over classes.txt (same length)
    ds = CUBWithBoxes(root, split='test', classes=['a', 'b', 'c'])
    assert ds.metainfo['classes'] == ('a', 'b', 'c')


def test_boxes_outside_by_less_than_tolerance_are_clipped(tmp_path):
    root = write_cub_tree(str(tmp_path / 't'),
                          [((20, 10), (1, 1, 5, 5), 0, 1)], num_classes=1)
    lines = read_lines(osp.join(root, 'bounding_boxes.txt'))
    with open(osp.join(root, 'bounding_boxes.txt'), 'w') as f:
        f.write('1 -0.5 2.0 20.5 8.75\n')  # 0.5 px over on the left/right
    ds = CUBWithBoxes(root, with_bbox=True)
    np.testing.assert_allclose(ds.get_data_info(0)['gt_bboxes'],
                               [[0, 2, 20, 10]])
    assert lines  # the tree had a box line before


@pytest.mark.parametrize('kwargs,name', [
    (dict(verify_images='fast'), 'verify_images'),
    (dict(with_bbox='yes'), 'with_bbox'),
    (dict(bbox_tolerance=-1), 'bbox_tolerance'),
])
def test_bad_arguments_name_the_argument(synthetic_root, kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        CUBWithBoxes(synthetic_root, **kwargs)


def _exif_rotated_tree(root: str) -> tuple:
    """A one-image CUB tree whose JPEG is stored 64 x 32 (w x h) with a red
    box at x 40-56, y 4-20 and the EXIF orientation 6 ("rotate 90 degrees
    to display"); returns (root, stored box x1, y1, x2, y2)."""
    from PIL import Image
    box = (40, 4, 16, 16)  # x, y, w, h in stored pixels, as in CUB
    write_cub_tree(root, [((64, 32), box, 0, 1), ((64, 32), box, 1, 0)],
                   num_classes=2)
    rel = read_lines(osp.join(root, 'images.txt'))[0].split()[1]
    png = osp.join(root, 'images', rel)
    img = Image.open(png).convert('RGB')
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    img.save(png, format='JPEG', quality=100, exif=exif.tobytes())
    return root, (40., 4., 56., 20.)


def test_exif_orientation_stored_pixels_everywhere(tmp_path):
    """Checker, loader and boxes agree on stored pixels: the loaded image
    keeps its stored 64 x 32 shape and the red region is where the box
    says (upstream loaders rotate the image to 32 x 64 under the box)."""
    from tests.helpers import colour_box
    root, box = _exif_rotated_tree(str(tmp_path / 'cub'))
    ds = CUBWithBoxes(root, split='train', with_bbox=True,
                      pipeline=[dict(type='LoadImageFromFile')])
    item = ds[0]
    assert item['img'].shape[:2] == (32, 64)
    np.testing.assert_allclose(item['gt_bboxes'][0], box)
    # the red box (BGR channel 2) is where the annotation puts it
    np.testing.assert_allclose(colour_box(item['img'], channel=2), box,
                               atol=1)


def test_explicit_exif_rotation_with_boxes_is_refused(tmp_path):
    root, _ = _exif_rotated_tree(str(tmp_path / 'cub'))
    with pytest.raises(ValueError, match='stored pixels'):
        CUBWithBoxes(root, split='train', with_bbox=True, pipeline=[
            dict(type='LoadImageFromFile', color_type='color')])

"""Bad data gets ONE clear error naming the file and line (issue 7).

Each test copies the tiny synthetic data set, corrupts one thing and
checks the message of the error raised when the data set is built."""
import os
import os.path as osp
import re
import shutil
from types import SimpleNamespace

import pytest
import torch
from mmpretrain.registry import DATASETS, HOOKS, MODELS

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets import (CUBWithBoxes, DataValidationError,
                                        check_num_classes)
from projects.fgvc_aam.datasets.generated_set import (MANIFEST_FILE,
                                                      MARKER_FILE)

from tests.helpers import TINY_SYNTHETIC, read_lines, snapshot, write_lines

N_CLASSES = TINY_SYNTHETIC['num_classes']


@pytest.fixture
def root(synthetic_root, tmp_path):
    """A copy of the tiny set as a plain CUB tree (like real CUB: without
    the generator's marker and manifest, which would refuse every edit)."""
    dst = str(tmp_path / 'data')
    shutil.copytree(synthetic_root, dst)
    for name in (MARKER_FILE, MANIFEST_FILE):
        os.remove(osp.join(dst, name))
    return dst


def _build(root, split='train', **kw):
    kw.setdefault('with_bbox', True)
    return CUBWithBoxes(root, split=split, **kw)


def _raises(root, *patterns, split='train', **kw):
    with pytest.raises(DataValidationError) as err:
        _build(root, split=split, **kw)
    msg = str(err.value)
    for p in patterns:
        assert re.search(p, msg), (p, msg)
    return msg


def _edit(root, fname, lineno, new):
    """Replace line ``lineno`` (1-based) of ``fname``; None deletes it."""
    path = osp.join(root, fname)
    lines = read_lines(path)
    if new is None:
        del lines[lineno - 1]
    else:
        lines[lineno - 1] = new
    write_lines(path, lines)


def _image_path(root, lineno):
    rel = read_lines(osp.join(root, 'images.txt'))[lineno - 1].split()[1]
    return osp.join(root, 'images', rel)


def _a_train_line(root):
    split = read_lines(osp.join(root, 'train_test_split.txt'))
    return next(i for i, s in enumerate(split, 1) if s.split()[1] == '1')


def test_clean_copy_builds(root):
    assert len(_build(root)) == N_CLASSES * TINY_SYNTHETIC['train_per_class']


@pytest.mark.parametrize('fname', [
    'images.txt', 'image_class_labels.txt', 'train_test_split.txt',
    'classes.txt', 'bounding_boxes.txt'
])
def test_missing_annotation_file(root, fname):
    os.remove(osp.join(root, fname))
    _raises(root, 'missing annotation file', re.escape(osp.join(root,
                                                                fname)))


def test_missing_boxes_file_is_fine_without_boxes(root):
    os.remove(osp.join(root, 'bounding_boxes.txt'))
    assert len(_build(root, with_bbox=False)) > 0


def test_duplicated_image_id(root):
    lines = read_lines(osp.join(root, 'images.txt'))
    _edit(root, 'images.txt', 5, '3 ' + lines[4].split()[1])
    _raises(root, r'images\.txt line 5', 'duplicated id 3',
            'first on line 3')


def test_same_image_listed_twice(root):
    lines = read_lines(osp.join(root, 'images.txt'))
    _edit(root, 'images.txt', 6, '6 ' + lines[1].split()[1])
    _raises(root, r'images\.txt line 6', 'listed twice', 'line 2')


@pytest.mark.parametrize('spelling', ['dot', 'dotdot', 'case'])
def test_same_image_listed_twice_under_another_spelling(root, spelling):
    """``dir/./x.jpg``, ``a/../dir/x.jpg`` and ``DIR/X.JPG`` are the image
    of another line (normalised before the duplicate check; case: the same
    file on a case-insensitive disk), not a new one in the other split."""
    rel = read_lines(osp.join(root, 'images.txt'))[1].split()[1]
    folder, name = rel.split('/')
    other = {'dot': f'{folder}/./{name}',
             'dotdot': f'{folder}/../{folder}/{name}',
             'case': rel.upper()}[spelling]
    _edit(root, 'images.txt', 6, f'6 {other}')
    _raises(root, r'images\.txt line 6', 'listed twice', 'line 2',
            re.escape(repr(other)))


def test_image_path_leaving_the_images_folder(root):
    _edit(root, 'images.txt', 6, '6 ../classes.txt')
    _raises(root, r'images\.txt line 6', 'leaves the images folder')


def test_split_file_references_missing_image_id(root):
    _edit(root, 'train_test_split.txt', 7, '99 1')
    _raises(root, r'train_test_split\.txt line 7', 'image id 99',
            r'not in .*images\.txt')


def test_image_without_split_line(root):
    _edit(root, 'train_test_split.txt', 4, None)
    _raises(root, r'images\.txt line 4', 'image id 4',
            r'no line in .*train_test_split\.txt')


def test_split_value_not_0_or_1(root):
    _edit(root, 'train_test_split.txt', 2, '2 train')
    _raises(root, r'train_test_split\.txt line 2', '0 or 1', "'train'")


def test_split_references_missing_image_file(root):
    line = _a_train_line(root)
    os.remove(_image_path(root, line))
    msg = _raises(root, rf'images\.txt line {line}\b', 'does not exist')
    # also with the image checks switched off
    assert msg == _raises(root, verify_images='none')


def test_missing_image_of_the_other_split_is_refused(root):
    """An annotation whose image is missing is refused whichever split is
    loaded (on main only the loaded split's images were looked at)."""
    split = read_lines(osp.join(root, 'train_test_split.txt'))
    line = next(i for i, s in enumerate(split, 1) if s.split()[1] == '0')
    os.remove(_image_path(root, line))
    _raises(root, rf'images\.txt line {line}\b', 'does not exist',
            re.escape(_image_path(root, line)), split='train')


@pytest.mark.parametrize('label', ['0', str(N_CLASSES + 1), 'x'])
def test_label_outside_range(root, label):
    _edit(root, 'image_class_labels.txt', 9, f'9 {label}')
    _raises(root, r'image_class_labels\.txt line 9', f"label '{label}'",
            rf'outside \[1, {N_CLASSES}\]', r'classes\.txt lists 4')


def test_label_disagrees_with_class_folder(root):
    # image 1 sits in class 1's folder; claim class 2
    _edit(root, 'image_class_labels.txt', 1, '1 2')
    _raises(root, r'image_class_labels\.txt line 1', 'label 2',
            r'images\.txt line 1', "folder '001")


def test_classes_txt_ids_not_consecutive(root):
    lines = read_lines(osp.join(root, 'classes.txt'))
    _edit(root, 'classes.txt', 3, '7 ' + lines[2].split()[1])
    _raises(root, r'classes\.txt line 3', 'class id 7, expected 3')


def test_classes_txt_shorter_than_labels(root):
    _edit(root, 'classes.txt', N_CLASSES, None)
    # the first image of the last class has a label > K - 1
    first = 1 + (N_CLASSES - 1) * TINY_SYNTHETIC['images_per_class']
    _raises(root, rf'image_class_labels\.txt line {first}\b',
            rf'outside \[1, {N_CLASSES - 1}\]')


def test_explicit_classes_disagree_with_classes_txt(root):
    _raises(root, 'metainfo/classes has 2 names',
            rf'classes\.txt lists {N_CLASSES}', classes=['a', 'b'])


def test_malformed_line(root):
    _edit(root, 'image_class_labels.txt', 3, '3')
    _raises(root, r'image_class_labels\.txt line 3', '2 fields')
    _edit(root, 'image_class_labels.txt', 3, 'three 1')
    _raises(root, r'image_class_labels\.txt line 3', 'positive integer')


@pytest.mark.parametrize('box,pattern', [
    ('10 10 -5 20', r'x2 = 5\.0 <= x1 = 10\.0'),
    ('10 10 20 0', 'height 0'),
    ('50 10 30 20', r'outside its 64x64 image'),
    ('-3 10 10 10', 'outside its'),
    ('1 2 3 nan', 'not finite'),
    ('1 2 3 four', '4 numbers'),
])
def test_bad_box(root, box, pattern):
    line = _a_train_line(root)
    _edit(root, 'bounding_boxes.txt', line, f'{line} {box}')
    _raises(root, rf'bounding_boxes\.txt line {line}\b', pattern)


def test_bad_box_of_other_split_found_too(root):
    split = read_lines(osp.join(root, 'train_test_split.txt'))
    line = next(i for i, s in enumerate(split, 1) if s.split()[1] == '0')
    _edit(root, 'bounding_boxes.txt', line, f'{line} 10 10 -5 20')
    _raises(root, rf'bounding_boxes\.txt line {line}\b', 'width -5',
            split='train')


def test_box_outside_not_checked_against_size_without_image_check(root):
    line = _a_train_line(root)
    _edit(root, 'bounding_boxes.txt', line, f'{line} 50 10 30 20')
    ds = _build(root, verify_images='none')  # size unknown: only x2 >= x1
    assert len(ds) > 0


def test_truncated_image(root):
    line = _a_train_line(root)
    path = _image_path(root, line)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    _raises(root, rf'images\.txt line {line}\b', re.escape(path),
            'truncated')
    _raises(root, rf'images\.txt line {line}\b', re.escape(path),
            verify_images='full')
    # the test split does not contain it
    assert len(_build(root, split='test')) > 0


def test_non_image_file(root):
    line = _a_train_line(root)
    path = _image_path(root, line)
    with open(path, 'w') as f:
        f.write('not an image\n')
    _raises(root, rf'images\.txt line {line}\b', re.escape(path),
            'not a readable image')


def test_empty_image_file(root):
    line = _a_train_line(root)
    open(_image_path(root, line), 'wb').close()
    _raises(root, rf'images\.txt line {line}\b', 'not a readable image')


def test_data_folder_is_never_written(synthetic_root):
    before = snapshot(synthetic_root)
    for split in ('train', 'test'):
        ds = DATASETS.build(dict(
            type='CUBWithBoxes', data_root=synthetic_root, split=split,
            with_bbox=True, verify_images='full',
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputsWithBoxes')]))
        for i in range(len(ds)):
            ds[i]
    assert snapshot(synthetic_root) == before


def _tiny_model(num_classes, pre_classes=None):
    return MODELS.build(dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor',
                               num_classes=pre_classes),
        backbone=dict(type='ResNet', depth=18, base_channels=4,
                      stem_channels=4),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=32)))


def test_num_classes_mismatch_is_reported(synthetic_root):
    ds = CUBWithBoxes(synthetic_root)
    check_num_classes(_tiny_model(N_CLASSES, N_CLASSES), [ds])  # agrees
    with pytest.raises(DataValidationError,
                       match=r'model\.head\.num_classes=200 .* has 4 '
                       'classes'):
        check_num_classes(_tiny_model(200), [ds])
    with pytest.raises(DataValidationError,
                       match=r'data_preprocessor\.num_classes=5 .*'
                       f'{re.escape(synthetic_root)}.* has 4 classes'):
        check_num_classes(_tiny_model(N_CLASSES, 5), [ds])
    # wrapped model (DDP-like `.module`)
    with pytest.raises(DataValidationError, match='model.head.num_classes'):
        check_num_classes(SimpleNamespace(module=_tiny_model(7)), [ds])


def test_dataset_consistency_hook(synthetic_root):
    hook = HOOKS.build(dict(type='DatasetConsistencyHook'))
    ds = CUBWithBoxes(synthetic_root)
    loader = torch.utils.data.DataLoader(ds)
    good = SimpleNamespace(model=_tiny_model(N_CLASSES), train_dataloader=
                           loader, val_dataloader=loader)
    hook.before_train(good)
    hook.before_val(good)
    bad = SimpleNamespace(model=_tiny_model(3), test_dataloader=loader)
    with pytest.raises(DataValidationError,
                       match=r'model\.head\.num_classes=3.*has 4 classes'):
        hook.before_test(bad)


# ------------------------------------------------ issue 13, lesser cases
def test_non_utf8_annotation_file_names_file_and_line(root):
    path = osp.join(root, 'images.txt')
    lines = read_lines(path)
    with open(path, 'wb') as f:
        for i, line in enumerate(lines, 1):
            f.write((line + ('\xe9' if i == 3 else '') + '\n').encode(
                'latin-1'))
    _raises(root, r'images\.txt line 3\b', 'not UTF-8')


def test_decompression_bomb_names_the_image(root, monkeypatch):
    """PIL refuses images over 2 * MAX_IMAGE_PIXELS (64 x 64 > 2 * 1000)."""
    from PIL import Image
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
    _raises(root, r'images\.txt line \d+\b', re.escape(root),
            'too large to decode safely')


def test_jpeg_with_bytes_after_its_end_marker_is_valid(root):
    """A complete JPEG followed by 2 KB of other bytes (the end marker is
    not in the last kilobyte) decodes fine and is accepted; the truncated
    one is still refused (test_truncated_image)."""
    from PIL import Image
    path = _image_path(root, _a_train_line(root))
    with open(path, 'ab') as f:
        f.write(b'\0' * 2048)
    with Image.open(path) as img:
        img.load()  # the oracle: PIL decodes it completely
    assert len(_build(root)) == N_CLASSES * TINY_SYNTHETIC['train_per_class']


@pytest.mark.parametrize('empty', ['train', 'test'])
def test_split_without_images_names_the_split_file(root, empty):
    path = osp.join(root, 'train_test_split.txt')
    flag = '0' if empty == 'train' else '1'
    write_lines(path, [f'{line.split()[0]} {flag}'
                       for line in read_lines(path)])
    _raises(root, r'train_test_split\.txt', f'the {empty} split is empty',
            split=empty)

"""A generated data set is whole or it is refused (issue 22): its files are
checked against the manifest the generator writes last."""
import os
import os.path as osp
import re
import shutil

import pytest

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets import CUBWithBoxes, DataValidationError
from projects.fgvc_aam.datasets.generated_set import (MANIFEST_FILE,
                                                      MARKER_FILE)

from tests.helpers import TINY_SYNTHETIC, read_lines


@pytest.fixture
def root(synthetic_root, tmp_path):
    dst = str(tmp_path / 'data')
    shutil.copytree(synthetic_root, dst)
    return dst


def _build(root, **kw):
    return CUBWithBoxes(root, split='train', with_bbox=True, **kw)


def _image(root, lineno):
    rel = read_lines(osp.join(root, 'images.txt'))[lineno - 1].split()[1]
    return osp.join(root, 'images', rel)


def _refused(root, path, why, **kw):
    with pytest.raises(DataValidationError) as err:
        _build(root, **kw)
    msg = str(err.value)
    assert re.search(re.escape(path), msg) and re.search(why, msg), msg
    return msg


def test_whole_set_loads(root):
    assert len(_build(root)) == (TINY_SYNTHETIC['num_classes'] *
                                 TINY_SYNTHETIC['train_per_class'])
    assert len(_build(root, verify_images='full')) > 0


def test_generated_set_without_manifest_is_refused(root):
    """What an interrupted generation of older versions left: the marker,
    not the manifest (written last)."""
    os.remove(osp.join(root, MANIFEST_FILE))
    _refused(root, root, f'{MARKER_FILE}.*no {MANIFEST_FILE}.*regenerate')


def test_image_from_another_set_names_the_image(root):
    """An image of the same name but other content (e.g. written by a
    regeneration with another seed) and a different size."""
    a, b = _image(root, 1), _image(root, 7)
    assert osp.getsize(a) != osp.getsize(b)
    shutil.copyfile(b, a)
    _refused(root, a, 'bytes, the manifest says')


def test_missing_image_of_the_other_split_is_found(root):
    split = read_lines(osp.join(root, 'train_test_split.txt'))
    test_line = next(i for i, s in enumerate(split, 1)
                     if s.split()[1] == '0')
    os.remove(_image(root, test_line))
    _refused(root, _image(root, test_line), 'missing')


def test_annotation_file_of_the_same_size_is_hashed(root):
    path = osp.join(root, 'bounding_boxes.txt')
    with open(path) as f:
        text = f.read()
    old = re.search(r'^1 (\d)', text, re.M).group(1)
    with open(path, 'w') as f:
        f.write(text.replace(f'1 {old}', f'1 {(int(old) + 1) % 10}', 1))
    _refused(root, path, 'SHA-256 differs')


def test_image_of_the_same_size_is_hashed_with_full_verification(root):
    """Images: sizes always, SHA-256 with verify_images='full'."""
    image = _image(root, 1)
    with open(image, 'r+b') as f:  # one byte of the entropy-coded data
        f.seek(osp.getsize(image) // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x10]))
    assert len(_build(root)) > 0  # sizes match: the cheap check passes
    _refused(root, image, 'SHA-256 differs', verify_images='full')

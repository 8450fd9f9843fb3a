"""The synthetic fine-grained generator: determinism, layout, boxes, CLI."""
import filecmp
import os
import os.path as osp
import subprocess
import sys
from itertools import product

import cv2
import numpy as np
import pytest

from fgvc_aam_tools.synthetic_fgvc import (
    ATTRIBUTES, DEFAULT_PARAMS, class_attributes, image_rng,
    make_synthetic_fgvc, render_bird_image, synthetic_fgvc_is_complete)

from tests.helpers import (ROOT, read_lines, snapshot, snapshot_files,
                           write_cub_tree)

SMALL = dict(num_classes=3, images_per_class=3, train_per_class=2,
             image_size=48)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = make_synthetic_fgvc(str(tmp_path / 'a'), seed=3, **SMALL)
    b = make_synthetic_fgvc(str(tmp_path / 'b'), seed=3, **SMALL)
    c = make_synthetic_fgvc(str(tmp_path / 'c'), seed=4, **SMALL)
    assert snapshot_files(a) == snapshot_files(b) == snapshot_files(c)
    for rel in snapshot_files(a):
        assert filecmp.cmp(osp.join(a, rel), osp.join(b, rel),
                           shallow=False), rel
    jpgs = [r for r in snapshot_files(a) if r.endswith('.jpg')]
    assert len(jpgs) == 9
    differ = [not filecmp.cmp(osp.join(a, r), osp.join(c, r), shallow=False)
              for r in jpgs]
    assert all(differ)
    assert read_lines(osp.join(a, 'bounding_boxes.txt')) != read_lines(
        osp.join(c, 'bounding_boxes.txt'))


def test_layout_is_cub(synthetic_root):
    from tests.helpers import TINY_SYNTHETIC as p
    n_cls, n_img = p['num_classes'], p['images_per_class']
    classes = [line.split() for line in read_lines(
        osp.join(synthetic_root, 'classes.txt'))]
    assert [int(i) for i, _ in classes] == list(range(1, n_cls + 1))
    for i, name in classes:
        assert name.startswith(f'{int(i):03d}.')
    images = [line.split() for line in read_lines(
        osp.join(synthetic_root, 'images.txt'))]
    labels = [line.split() for line in read_lines(
        osp.join(synthetic_root, 'image_class_labels.txt'))]
    split = [line.split() for line in read_lines(
        osp.join(synthetic_root, 'train_test_split.txt'))]
    boxes = [line.split() for line in read_lines(
        osp.join(synthetic_root, 'bounding_boxes.txt'))]
    ids = [str(i) for i in range(1, n_cls * n_img + 1)]
    for table in (images, labels, split, boxes):
        assert [row[0] for row in table] == ids
    names = dict(classes)
    per_class_train = {}
    for (_, rel), (_, lab), (_, tr), box in zip(images, labels, split, boxes):
        # the class folder is the label's classes.txt entry
        assert rel.split('/')[0] == names[lab]
        img = cv2.imread(osp.join(synthetic_root, 'images', rel))
        assert img.shape == (p['image_size'], p['image_size'], 3)
        per_class_train[lab] = per_class_train.get(lab, 0) + int(tr)
        x, y, w, h = (float(v) for v in box[1:])
        assert 0 <= x and 0 <= y and w > 0 and h > 0
        assert x + w <= p['image_size'] and y + h <= p['image_size']
    assert per_class_train == {
        str(c): p['train_per_class'] for c in range(1, n_cls + 1)}


def test_boxes_are_where_the_bird_is_drawn(tmp_path):
    """Oracle: render the same image without the bird (same random
    stream): the pixels that change are the bird; their tight box must be
    the one written to bounding_boxes.txt."""
    kw = dict(image_size=(96, 80), object_size_range=(0.3, 0.5),
              max_rotation=30., clutter=0.5, jitter=1.0)
    root = make_synthetic_fgvc(str(tmp_path / 'd'), num_classes=4,
                               images_per_class=3, train_per_class=2,
                               seed=7, **kw)
    boxes = [[float(v) for v in line.split()[1:]]
             for line in read_lines(osp.join(root, 'bounding_boxes.txt'))]
    n = 0
    for label in range(4):
        for k in range(3):
            img, box = render_bird_image(label, image_rng(7, label, k), **kw)
            bg, _ = render_bird_image(
                label, image_rng(7, label, k), draw_object=False, **kw)
            changed = np.abs(img.astype(int) - bg.astype(int)).max(-1) > 0
            ys, xs = np.nonzero(changed)
            drawn = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            # anti-aliased edges may touch one more pixel than the mask
            np.testing.assert_allclose(box, drawn, atol=1)
            x, y, w, h = boxes[n]
            np.testing.assert_allclose([x, y, x + w, y + h], box)
            # everything outside the box is untouched background
            outside = changed.copy()
            outside[int(box[1]):int(box[3]), int(box[0]):int(box[2])] = False
            assert outside.sum() <= 2 * (box[2] - box[0] + box[3] - box[1])
            n += 1


def test_object_size_follows_object_size_range(tmp_path):
    """The bird's length before rotation is lo..hi of the side: with no
    rotation and no flip the box width lies in that range (the beak tip /
    tail tip can lose up to a pixel to rasterisation)."""
    for lo, hi in ((0.2, 0.25), (0.5, 0.6)):
        for k in range(6):
            _, box = render_bird_image(1, image_rng(0, 1, k), 200,
                                       (lo, hi), max_rotation=0.)
            assert lo * 200 - 2 <= box[2] - box[0] <= hi * 200 + 2


def test_classes_are_factorial_attribute_combinations():
    combos = {tuple(class_attributes(c).values()) for c in range(16)}
    assert len(combos) == 16
    # 16 classes = stripes (4) x tail (2) x wing (2), the rest constant
    expect = set(product(range(4), range(2), range(2), [0], [0], [0], [0]))
    assert combos == expect
    n_max = int(np.prod([len(levels) for _, levels in ATTRIBUTES]))
    assert len({tuple(class_attributes(c).values())
                for c in range(n_max)}) == n_max
    with pytest.raises(ValueError, match='label'):
        class_attributes(n_max)


@pytest.mark.parametrize('name,value', [
    ('num_classes', 1), ('num_classes', 10**6), ('images_per_class', 1),
    ('train_per_class', 0),
    ('train_per_class', DEFAULT_PARAMS['images_per_class']), ('image_size', 8),
    ('object_size_range', (0.6, 0.3)), ('clutter', 1.5), ('jitter', -1.),
    ('jpeg_quality', 0), ('seed', -1), ('max_rotation', 400.)
])
def test_bad_parameters_name_the_argument(tmp_path, name, value):
    with pytest.raises(ValueError, match=name):
        make_synthetic_fgvc(str(tmp_path / 'x'), **{name: value})
    assert not osp.exists(tmp_path / 'x')


def test_default_data_set_is_complete(tmp_path):
    # (its speed is the quick start's `data` figure, not a test: no timed
    # assertion, which failed once on a loaded machine)
    root = make_synthetic_fgvc(str(tmp_path / 'default'))
    assert synthetic_fgvc_is_complete(root)
    p = DEFAULT_PARAMS
    assert len(read_lines(osp.join(root, 'images.txt'))) == \
        p['num_classes'] * p['images_per_class']
    # a different parameter set is not "complete"
    assert not synthetic_fgvc_is_complete(root, seed=1)
    # removing an image makes it incomplete
    rel = read_lines(osp.join(root, 'images.txt'))[5].split()[1]
    os.remove(osp.join(root, 'images', rel))
    assert not synthetic_fgvc_is_complete(root)


def _cli(*args):
    return subprocess.run(
        [sys.executable, 'tools/dataset_converters/make_synthetic_fgvc.py',
         *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_cli_skips_complete_data_and_never_deletes(tmp_path):
    out = str(tmp_path / 'cli')
    args = ['--out', out, '--num-classes', '2', '--images-per-class', '3',
            '--train-per-class', '2', '--image-size', '40', '32']
    assert 'wrote 6 images' in _cli(*args)
    # the user's own files in a folder the generator made are kept
    for keep in (osp.join(out, 'README.user'),
                 osp.join(out, 'images', 'mine.jpg')):
        with open(keep, 'w') as f:
            f.write('user file')
    first = snapshot(out)
    assert 'skipping' in _cli(*args)
    assert snapshot(out) == first  # nothing rewritten
    assert 'wrote 6 images' in _cli(*args, '--force')
    again = snapshot(out)
    assert set(again) == set(first)
    for keep in ('README.user', 'images/mine.jpg'):
        assert again[keep] == first[keep]
    # same parameters through the library: same bytes as the CLI wrote
    lib = make_synthetic_fgvc(str(tmp_path / 'lib'), num_classes=2,
                              images_per_class=3, train_per_class=2,
                              image_size=(40, 32))
    rel = read_lines(osp.join(out, 'images.txt'))[0].split()[1]
    img = cv2.imread(osp.join(out, 'images', rel))
    assert img.shape == (32, 40, 3)
    assert filecmp.cmp(osp.join(out, 'images', rel),
                       osp.join(lib, 'images', rel), shallow=False)


def _foreign_cub(root: str) -> dict:
    """A CUB-layout tree this generator did not make (a stand-in for the
    user's real CUB-200-2011), and its snapshot."""
    write_cub_tree(root, [((32, 24), (2, 3, 10, 8), 0, 1),
                          ((32, 24), (5, 5, 6, 6), 1, 0)], num_classes=2)
    return snapshot(root)


def test_refuses_folder_it_did_not_make_before_writing(tmp_path):
    """A non-empty folder without the generator's marker (e.g. real CUB) is
    refused, naming the folder and a file found; not a byte changes (issue
    13, case 1: main replaced the annotation files and added images)."""
    root = str(tmp_path / 'CUB_200_2011')
    before = _foreign_cub(root)
    with pytest.raises(FileExistsError) as info:
        make_synthetic_fgvc(root, **SMALL)
    assert repr(root) in str(info.value)
    assert "'classes.txt'" in str(info.value)
    assert snapshot(root) == before
    # a single unrelated file is enough to refuse
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='notes.txt'):
        make_synthetic_fgvc(str(other), **SMALL)
    assert sorted(os.listdir(other)) == ['notes.txt']
    # an empty folder is fine, and a folder it made can be regenerated
    (tmp_path / 'empty').mkdir()
    made = make_synthetic_fgvc(str(tmp_path / 'empty'), **SMALL)
    make_synthetic_fgvc(made, **SMALL)
    assert synthetic_fgvc_is_complete(made, **SMALL)


@pytest.mark.parametrize('tool', ['generator', 'quickstart'])
def test_tools_refuse_folder_they_did_not_make(tmp_path, tool):
    """The generator's CLI and tools/quickstart.py --data-root exit non-zero
    on a foreign CUB tree, naming it, and leave it byte-identical."""
    root = str(tmp_path / 'CUB_200_2011')
    before = _foreign_cub(root)
    cmd = ([sys.executable, 'tools/dataset_converters/make_synthetic_fgvc.py',
            '--out', root] if tool == 'generator' else
           [sys.executable, 'tools/quickstart.py', '--data-root', root,
            '--work-dir', str(tmp_path / 'work')])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert 'refusing to write into' in proc.stderr
    assert root in proc.stderr and 'images.txt' in proc.stderr
    assert snapshot(root) == before
    assert not osp.exists(tmp_path / 'work')


def _partials(parent: str) -> list:
    return [n for n in os.listdir(parent) if '.partial-' in n]


@pytest.mark.reliability
def test_killed_regeneration_leaves_the_old_set_whole(tmp_path):
    """Issue 22: ``--seed 2 --force`` killed mid-way over a seed-1 set left
    new images beside the old boxes. Now the new set grows in a temporary
    sibling folder: the old one is byte-identical (and complete) after the
    kill, and the next run replaces it and removes the killed run's
    leftovers."""
    import signal
    import time
    out = str(tmp_path / 'set')
    params = dict(num_classes=2, images_per_class=200, train_per_class=100,
                  image_size=64)
    make_synthetic_fgvc(out, seed=1, **params)
    before = snapshot(out)
    args = ['--out', out, '--num-classes', '2', '--images-per-class', '200',
            '--train-per-class', '100', '--image-size', '64', '--seed', '2',
            '--force']
    proc = subprocess.Popen(
        [sys.executable, 'tools/dataset_converters/make_synthetic_fgvc.py',
         *args], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        written = [osp.join(dp, f) for p in _partials(str(tmp_path))
                   for dp, _, fs in os.walk(tmp_path / p) for f in fs]
        if len(written) >= 20:  # mid-way through the images
            break
        time.sleep(0.02)
    assert proc.poll() is None, 'the generator ended before the kill'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot(out) == before
    assert synthetic_fgvc_is_complete(out, seed=1, **params)
    assert _partials(str(tmp_path))  # what the killed run left aside
    assert 'wrote 400 images' in _cli(*args)
    assert synthetic_fgvc_is_complete(out, seed=2, **params)
    assert sorted(os.listdir(tmp_path)) == ['set']


def test_links_are_never_followed(tmp_path):
    real = make_synthetic_fgvc(str(tmp_path / 'real'), **SMALL)
    before = snapshot(real)
    link = tmp_path / 'link'
    link.symlink_to(real)
    with pytest.raises(FileExistsError, match='symbolic link'):
        make_synthetic_fgvc(str(link), seed=3, **SMALL)
    assert snapshot(real) == before

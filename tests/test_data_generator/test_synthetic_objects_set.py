"""The object-centric pretraining set (objects='shapes'): object kinds that
are not birds, told apart by shape only, on the birds' background."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from fgvc_aam_tools.synthetic_fgvc import (
    DEFAULT_PARAMS, META_FILE, OBJECTS_PRETRAIN_PARAMS, _shape_template,
    image_rng, make_synthetic_fgvc, render_bird_image,
    synthetic_fgvc_is_complete)

TINY = dict(images_per_class=3, train_per_class=2, image_size=48)


def _mask_of(img_with: np.ndarray, img_without: np.ndarray) -> np.ndarray:
    return np.abs(img_with.astype(int) - img_without.astype(int)).sum(2) > 0


def test_the_box_is_the_tight_box_of_the_drawn_object():
    # Oracle: the pixels that change when the object is drawn (the same
    # random stream renders the same background without it).
    for kind in (0, 5, 31):
        img, box = render_bird_image(kind, image_rng(2, kind, 0), 96,
                                     objects='shapes')
        bg, _ = render_bird_image(kind, image_rng(2, kind, 0), 96,
                                  objects='shapes', draw_object=False)
        ys, xs = np.nonzero(_mask_of(img, bg))
        # anti-aliased edges may reach one pixel beyond the filled mask
        assert abs(xs.min() - box[0]) <= 1 and abs(ys.min() - box[1]) <= 1
        assert abs(xs.max() + 1 - box[2]) <= 1
        assert abs(ys.max() + 1 - box[3]) <= 1
        # the object is 40-60% of the side long before rotation
        assert 0.25 * 96 < max(box[2] - box[0], box[3] - box[1]) < 0.8 * 96


def test_kinds_differ_in_layout_instances_of_a_kind_do_not():
    templates = [_shape_template(k) for k in range(48)]
    layouts = {json.dumps([(p['prim'], round(p['ay'], 3), round(p['cx'], 3))
                           for p in t]) for t in templates}
    assert len(layouts) == 48  # every kind its own layout
    assert _shape_template(7) == _shape_template(7)  # depends on kind only
    for t in templates:
        assert 2 <= len(t) <= 4


def test_colours_are_not_class_information():
    # Same kind, different instances: different body colours (random), so
    # only the shape can tell the kinds apart.
    colours = set()
    for i in range(6):
        img, box = render_bird_image(3, image_rng(2, 3, i), 96,
                                     objects='shapes')
        bg, _ = render_bird_image(3, image_rng(2, 3, i), 96,
                                  objects='shapes', draw_object=False)
        m = _mask_of(img, bg)
        colours.add(tuple((img[m].mean(0) // 32).astype(int)))
    assert len(colours) >= 4


def test_birds_are_unchanged_by_the_objects_option():
    a, box_a = render_bird_image(5, image_rng(0, 5, 1), 64)
    b, box_b = render_bird_image(5, image_rng(0, 5, 1), 64, objects='birds')
    assert np.array_equal(a, b) and np.array_equal(box_a, box_b)
    c, _ = render_bird_image(5, image_rng(0, 5, 1), 64, objects='shapes')
    assert not np.array_equal(a, c)


def test_a_set_of_object_kinds_is_written_and_recognised(tmp_path):
    out = str(tmp_path / 'objects')
    params = dict(TINY, num_classes=3, objects='shapes', seed=2)
    make_synthetic_fgvc(out, **params)
    with open(osp.join(out, 'classes.txt')) as f:
        names = [line.split()[1] for line in f]
    assert names == ['001.Object_kind_001', '002.Object_kind_002',
                     '003.Object_kind_003']
    with open(osp.join(out, META_FILE)) as f:
        meta = json.load(f)
    assert meta['params']['objects'] == 'shapes'
    assert meta['classes']['002.Object_kind_002'] == dict(kind=1)
    # the first image is the renderer's kind 0, image 0 (JPEG of it)
    with open(osp.join(out, 'images.txt')) as f:
        first = f.readline().split()[1]
    img, _ = render_bird_image(0, image_rng(2, 0, 0), 48, objects='shapes')
    ok, buf = cv2.imencode('.jpg', img, [int(cv2.IMWRITE_JPEG_QUALITY), 90])
    with open(osp.join(out, 'images', first), 'rb') as f:
        assert f.read() == buf.tobytes()
    assert synthetic_fgvc_is_complete(out, **params)
    # a bird set with the same other parameters is another set
    assert not synthetic_fgvc_is_complete(out, **dict(params,
                                                      objects='birds'))


def test_the_pretraining_parameters_share_the_rendering_only():
    same = {k: v for k, v in OBJECTS_PRETRAIN_PARAMS.items()
            if k not in ('objects', 'num_classes', 'images_per_class',
                         'train_per_class', 'seed')}
    assert same == {k: DEFAULT_PARAMS[k] for k in same}
    assert OBJECTS_PRETRAIN_PARAMS['objects'] == 'shapes'
    assert OBJECTS_PRETRAIN_PARAMS['seed'] != DEFAULT_PARAMS['seed']


def test_an_unknown_kind_of_object_is_refused(tmp_path):
    with pytest.raises(ValueError, match="objects='cars'"):
        make_synthetic_fgvc(str(tmp_path / 'x'), objects='cars', **TINY)
    assert not osp.exists(tmp_path / 'x')

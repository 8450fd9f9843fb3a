"""The synthetic pretraining set: same domain, other classes, no image in
common with the default set."""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from fgvc_aam_tools.synthetic_fgvc import (
    DEFAULT_PARAMS, META_FILE, PRETRAIN_PARAMS, class_attributes, image_rng,
    make_synthetic_fgvc, render_bird_image)

TINY = dict(images_per_class=3, train_per_class=2, image_size=32)


def _attrs(params):
    first = params.get('first_class', 0)
    return [tuple(sorted(class_attributes(first + c).items()))
            for c in range(params['num_classes'])]


def test_classes_are_other_attribute_combinations_of_the_same_domain():
    fine, pre = _attrs(DEFAULT_PARAMS), _attrs(PRETRAIN_PARAMS)
    assert set(fine).isdisjoint(pre) and len(set(pre)) == 48
    for a in map(dict, pre):  # every pretraining bird: crest or long beak
        assert a['crest'] or a['beak']
    for a in map(dict, fine):
        assert not (a['crest'] or a['beak'])
    same = {k: v for k, v in PRETRAIN_PARAMS.items()
            if k not in ('num_classes', 'first_class', 'images_per_class',
                         'train_per_class', 'seed')}
    assert same == {k: DEFAULT_PARAMS[k] for k in same}  # same rendering


def test_images_follow_the_absolute_class_and_share_nothing(tmp_path):
    pre = str(tmp_path / 'pre')
    fine = str(tmp_path / 'fine')
    make_synthetic_fgvc(pre, num_classes=2, first_class=16, seed=1, **TINY)
    make_synthetic_fgvc(fine, num_classes=2, seed=1, **TINY)
    with open(osp.join(pre, 'images.txt')) as f:
        first = f.readline().split()[1]
    # Oracle: the renderer with the absolute class 16 and its own stream.
    img, _ = render_bird_image(16, image_rng(1, 16, 0), 32)
    ok, buf = cv2.imencode('.jpg', img, [int(cv2.IMWRITE_JPEG_QUALITY), 90])
    with open(osp.join(pre, 'images', first), 'rb') as f:
        assert f.read() == buf.tobytes()
    with open(osp.join(pre, 'image_class_labels.txt')) as f:
        assert f.readline().split()[1] == '1'  # 1-based within the set

    def digests(root):
        out = set()
        for d, _, files in os.walk(osp.join(root, 'images')):
            for n in files:
                with open(osp.join(d, n), 'rb') as f:
                    out.add(hashlib.sha1(f.read()).hexdigest())
        return out

    assert len(digests(pre)) == 6 and digests(pre).isdisjoint(digests(fine))
    with open(osp.join(pre, META_FILE)) as f:
        meta = json.load(f)
    assert meta['params']['first_class'] == 16
    assert all(v['crest'] == 1 for v in meta['classes'].values())
    # The default set's meta is unchanged (sets made before still count as
    # complete): no first_class key when it is 0.
    with open(osp.join(fine, META_FILE)) as f:
        assert 'first_class' not in json.load(f)['params']


def test_first_class_out_of_range_is_refused(tmp_path):
    with pytest.raises(ValueError, match='first_class'):
        make_synthetic_fgvc(str(tmp_path), num_classes=16, first_class=250,
                            **TINY)
    assert np.all([not osp.exists(osp.join(str(tmp_path), 'images'))])

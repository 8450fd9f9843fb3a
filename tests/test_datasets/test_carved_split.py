"""CarvedSplit: the validation split carved from the training images."""
import hashlib
import os.path as osp

import pytest

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam.datasets import CarvedSplit, CUBWithBoxes
from fgvc_aam_tools.synthetic_fgvc import make_synthetic_fgvc


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('carve') / 'syn')
    make_synthetic_fgvc(out, num_classes=3, images_per_class=13,
                        train_per_class=10, image_size=24)
    return out


def _names(ds) -> list:
    return [osp.join(*ds.get_data_info(i)['img_path'].split('/')[-2:])
            for i in range(len(ds))]


def test_parts_are_disjoint_stratified_and_from_the_training_split(root):
    def split(name):
        return CUBWithBoxes(data_root=root, split=name, pipeline=[])

    train, test = split('train'), split('test')
    val = CarvedSplit(split('train'), part='val', fraction=0.2)
    rest = CarvedSplit(split('train'), part='train', fraction=0.2)
    assert len(val) == 3 * 2 and len(rest) == 3 * 8  # round(0.2 * 10)
    assert set(_names(val)).isdisjoint(_names(rest))
    assert sorted(_names(val) + _names(rest)) == sorted(_names(train))
    assert set(_names(val)).isdisjoint(_names(test))  # never a test image
    labels = [val.get_data_info(i)['gt_label'] for i in range(len(val))]
    assert sorted(labels) == [0, 0, 1, 1, 2, 2]
    assert val.metainfo['classes'] == train.metainfo['classes']
    # Oracle: the documented rule, written out: per class, the 2 file
    # names with the smallest sha1('0/<class folder>/<file>').
    expected = []
    for c in range(3):
        names = [n for n, i in zip(_names(train), range(len(train)))
                 if train.get_data_info(i)['gt_label'] == c]
        expected += sorted(names, key=lambda n: hashlib.sha1(
            f'0/{n}'.encode()).hexdigest())[:2]
    assert sorted(_names(val)) == sorted(expected)
    # items are the wrapped data set's
    assert val[0]['img_path'] == train[val.indices[0]]['img_path']


class _Listed:
    """A minimal data set over (label, path) pairs, in a given order."""

    def __init__(self, items):
        self.items = items
        self.metainfo = dict(classes=('a', 'b'))

    def __len__(self):
        return len(self.items)

    def get_data_info(self, i):
        return dict(gt_label=self.items[i][0], img_path=self.items[i][1])


def test_carving_depends_on_names_not_order_and_changes_with_the_seed():
    items = [(i % 2, f'/d/c{i % 2}/img_{i:03d}.jpg') for i in range(40)]

    def carved(its, seed=0):
        ds = CarvedSplit(_Listed(its), part='val', fraction=0.25, seed=seed)
        return sorted(ds.get_data_info(i)['img_path']
                      for i in range(len(ds)))

    assert carved(items) == carved(items[::-1])
    assert len(carved(items)) == 10
    assert carved(items) != carved(items, seed=1)


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match='part'):
        CarvedSplit(_Listed([]), part='test')
    with pytest.raises(ValueError, match='fraction'):
        CarvedSplit(_Listed([]), fraction=1.0)

"""Model-zoo calls fail loudly or work (issue 24).

Oracle: ``configs/two_branch/metafile.yml`` lists no ``Weights`` for the
model; on unchanged main ``get_model(name, pretrained=True)`` only warned
("Unable to find pre-defined checkpoint") and returned an untrained
model.
"""
import os.path as osp

import pytest
import torch
import yaml

import projects.fgvc_aam  # noqa: F401
from tests.helpers import ROOT

NAME = 'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc'
CONFIG = f'configs/two_branch/{NAME}.py'


def test_the_metafile_publishes_no_weights():
    with open(osp.join(ROOT, 'configs/two_branch/metafile.yml')) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    assert models[NAME].get('Weights') is None


def test_pretrained_true_without_weights_is_refused():
    from mmpretrain import get_model
    with pytest.raises(FileNotFoundError) as err:  # NoPublishedWeightsError
        get_model(NAME, pretrained=True)
    assert type(err.value).__name__ == 'NoPublishedWeightsError'
    msg = str(err.value)
    assert f'publishes no weights for {NAME}' in msg
    assert f'python tools/train.py {CONFIG}' in msg
    assert 'pretrained=False' in msg


def test_untrained_and_own_checkpoint_still_work(tmp_path):
    from mmpretrain import get_model
    model = get_model(NAME)  # pretrained=False: untrained, as asked
    assert type(model).__name__ == 'TwoBranchClassifier'
    torch.manual_seed(1)
    state = {k: torch.randn_like(v) if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    path = str(tmp_path / 'mine.pth')
    torch.save({'state_dict': state}, path)
    loaded = get_model(NAME, pretrained=path).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())

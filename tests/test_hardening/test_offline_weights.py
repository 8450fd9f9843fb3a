"""Offline start-up (issue 24): a failed weight download names the URL,
mmengine's cache file and the --cfg-options key to set.

Oracle: mmengine's own loader, whose download is replaced by one raising
``URLError`` (what a machine without a network gets); on unchanged main
the run ends in that bare ``URLError``.
"""
import os.path as osp
from urllib.error import URLError

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import checkpoint as mmengine_checkpoint

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
from projects.fgvc_aam_hardening.work_dir_lock import release_work_dir_locks
from tests.helpers import ROOT

CONFIG = osp.join(
    ROOT, 'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py')


@pytest.fixture
def offline(monkeypatch):
    """mmengine's downloads fail as without a network; its loader table is
    restored afterwards."""
    def no_network(url, *args, **kwargs):
        raise URLError('[Errno -2] Name or service not known')
    monkeypatch.setattr(mmengine_checkpoint, 'load_url', no_network)
    loader = mmengine_checkpoint.CheckpointLoader
    monkeypatch.setattr(loader, '_schemes', dict(loader._schemes))


def test_failed_download_says_what_to_set(offline, tmp_path):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path)
    url = cfg.model.backbone.init_cfg.checkpoint
    try:
        prepare_runtime(cfg, training=False)
    finally:
        release_work_dir_locks()
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    with pytest.raises(RuntimeError) as err:
        model.init_weights()
    msg = str(err.value)
    assert url in msg and 'Name or service not known' in msg
    name = osp.basename(url)
    assert osp.join(torch.hub.get_dir(), 'checkpoints', name) in msg
    assert f'--cfg-options model.backbone.init_cfg.checkpoint=/path/to/' \
        f'{name}' in msg
    assert isinstance(err.value.__cause__, URLError)


def test_local_file_from_the_message_loads(offline, tmp_path):
    """Following the advice works offline: the backbone's keys, prefixed
    ``backbone.``, as MMPretrain publishes them."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(CONFIG)
    backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    state = {f'backbone.{k}': torch.randn_like(v) if v.is_floating_point()
             else v for k, v in backbone.state_dict().items()}
    path = str(tmp_path / 'resnet50.pth')
    torch.save({'state_dict': state}, path)
    cfg.model.backbone.init_cfg.checkpoint = path
    model = MODELS.build(cfg.model)
    model.init_weights()
    got = model.backbone.state_dict()
    assert all(torch.equal(got[k[len('backbone.'):]], v)
               for k, v in state.items())

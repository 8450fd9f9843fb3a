"""The synthetic pretrained backbone: the fine-tuning configs load it with
``init_cfg=dict(type='Pretrained', prefix='backbone')``; the pretraining
command caches it by content and never overwrites a foreign file."""
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import projects.fgvc_aam  # noqa: F401
from fgvc_aam_tools.compare import plans, pretrain
from tests.helpers import ROOT

FT = plans.REGIMES['finetune']['configs']


def _fake_pretrained(path: str, config: str = pretrain.PRETRAIN_CONFIG,
                     seed: int = 123, **backbone) -> dict:
    """An MMPretrain checkpoint of the pretraining model of ``config``
    (``backbone`` fields changed), random weights."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.update(backbone)
    model = MODELS.build(cfg.model)
    for p in model.parameters():
        torch.nn.init.normal_(p)
    sd = model.state_dict()
    torch.save(dict(state_dict=sd, meta=dict(epoch=30)), path)
    return sd


def test_finetune_configs_load_the_backbone_and_not_the_head(tmp_path):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    ckpt = str(tmp_path / 'pre.pth')
    sd = _fake_pretrained(ckpt)
    for config in (FT[0], plans.thesis_config('finetune')):
        cfg = Config.fromfile(osp.join(ROOT, config))
        assert cfg.model.backbone.init_cfg.checkpoint == pretrain.STABLE_PATH
        cfg.model.backbone.init_cfg.checkpoint = ckpt
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        bb = model.backbone.state_dict()
        for k, v in bb.items():
            assert torch.equal(v, sd['backbone.' + k]), (config, k)
        # The head keeps its own initialisation: the same as a model built
        # with the same seed and no pretrained backbone.
        plain = Config.fromfile(osp.join(ROOT, config))
        plain.model.backbone.init_cfg = None
        torch.manual_seed(0)
        ref = MODELS.build(plain.model)
        ref.init_weights()
        for k, v in model.head.state_dict().items():
            assert torch.equal(v, ref.head.state_dict()[k]), (config, k)
        assert not torch.equal(bb['conv1.weight'],
                               ref.backbone.state_dict()['conv1.weight'])


def test_pretraining_is_cached_by_content(tmp_path, capsys):
    root = str(tmp_path / 'cache')
    key = pretrain.cache_key()
    assert key == pretrain.cache_key()  # deterministic
    from fgvc_aam_tools.synthetic_fgvc import PRETRAIN_PARAMS
    other = dict(PRETRAIN_PARAMS, seed=2)
    assert pretrain.cache_key(params=other) != key
    ckpt, done = pretrain.cached_checkpoint(root)
    assert not done and key in ckpt
    os.makedirs(osp.dirname(ckpt))
    _fake_pretrained(ckpt)
    stable = str(tmp_path / 'pretrained' / 'x.pth')
    # cached: returned at once (nothing generated or trained) and published
    assert pretrain.ensure_pretrained(root, stable=stable) == ckpt
    assert not osp.exists(osp.join(root, 'data'))
    with open(stable, 'rb') as a, open(ckpt, 'rb') as b:
        assert a.read() == b.read()
    # a file at the stable path that the tool did not write stays
    foreign = str(tmp_path / 'mine.pth')
    with open(foreign, 'w') as f:
        f.write('user data')
    pretrain.ensure_pretrained(root, stable=foreign)
    with open(foreign) as f:
        assert f.read() == 'user data'
    assert 'not written by this tool' in capsys.readouterr().out


def test_a_cached_checkpoint_of_another_model_is_refused(tmp_path):
    """Issue 22: a cache entry of another width was reported as cached and
    the fine-tune started from scratch. Oracle: the width in the config
    (16) against the file's (32); strides, which leave the shapes alone,
    against the record written next to it."""
    from projects.fgvc_aam.engine import CheckpointMismatchError
    root = str(tmp_path / 'cache')
    ckpt, _ = pretrain.cached_checkpoint(root)
    os.makedirs(osp.dirname(ckpt))
    _fake_pretrained(ckpt, stem_channels=32, base_channels=32)
    with pytest.raises(CheckpointMismatchError, match='of another shape'):
        pretrain.ensure_pretrained(root, stable=None)
    _fake_pretrained(ckpt)
    assert pretrain.ensure_pretrained(root, stable=None) == ckpt
    with open(osp.join(osp.dirname(ckpt), 'pretrained.json'), 'w') as f:
        json.dump(dict(backbone=dict(type='ResNet', depth=18,
                                     strides=(1, 2, 2, 1))), f)
    with pytest.raises(CheckpointMismatchError, match='made by backbone'):
        pretrain.ensure_pretrained(root, stable=None)


def test_exported_backbone_is_what_the_quickstart_loads(tmp_path):
    """--export-backbone writes the backbone weights alone (a new file,
    never over one) and a config's Pretrained init with prefix 'backbone'
    loads exactly those weights, as configs/quickstart.py loads the shipped
    checkpoints/ file."""
    from mmpretrain.registry import MODELS
    cache = tmp_path / 'abc123'
    cache.mkdir()
    sd = _fake_pretrained(str(cache / 'pretrained.pth'),
                          pretrain.OBJECTS_CONFIG, seed=7)
    out = str(tmp_path / 'exported.pth')
    pretrain.export_backbone(str(cache / 'pretrained.pth'), out, 'cfg.py')
    got = torch.load(out, weights_only=True)  # plain: no allow-list
    assert set(got['state_dict']) == {k for k in sd if k.startswith(
        'backbone.')} and got['meta']['cache_key'] == 'abc123'
    before = os.stat(out).st_mtime_ns
    with pytest.raises(FileExistsError):
        pretrain.export_backbone(str(cache / 'pretrained.pth'), out, 'x')
    assert os.stat(out).st_mtime_ns == before
    cfg = Config.fromfile(osp.join(ROOT, 'configs/quickstart.py'))
    cfg.model.backbone.init_cfg.checkpoint = out
    model = MODELS.build(cfg.model)
    model.init_weights()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, sd['backbone.' + k]), k


def test_the_shipped_backbone_loads_safely_and_fits():
    """The file configs/quickstart.py names: read by our safe loader (zip
    CRCs, weights_only, nothing allow-listed) and an exact fit of the
    study's backbone."""
    from mmpretrain.registry import MODELS

    from projects.fgvc_aam.engine import load_checkpoint_file
    cfg = Config.fromfile(osp.join(ROOT, 'configs/quickstart.py'))
    ckpt = load_checkpoint_file(osp.join(
        ROOT, cfg.model.backbone.init_cfg.checkpoint))
    bb = cfg.model.backbone
    bb.pop('init_cfg')
    model = MODELS.build(bb)
    missing = model.load_state_dict(
        {k[len('backbone.'):]: v for k, v in ckpt['state_dict'].items()},
        strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    assert ckpt['meta']['config'] == pretrain.OBJECTS_CONFIG

"""The synthetic pretrained backbone: the fine-tuning configs load it with
``init_cfg=dict(type='Pretrained', prefix='backbone')``; the pretraining
command caches it by content and never overwrites a foreign file."""
import os
import os.path as osp

import torch
from mmengine.config import Config

import projects.fgvc_aam  # noqa: F401
from fgvc_aam_tools.compare import plans, pretrain
from tests.helpers import ROOT

FT = plans.REGIMES['finetune']['configs']


def _fake_pretrained(path: str) -> dict:
    """An MMPretrain checkpoint of the pretraining model, random weights."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(123)
    model = MODELS.build(Config.fromfile(
        osp.join(ROOT, pretrain.PRETRAIN_CONFIG)).model)
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

"""Every config of the comparison methods builds; synthetic siblings train.

- Each config under configs/{baseline,bcnn,mc_loss,ma_cnn,pairwise_confusion,
  table8} loads, its model builds from the registry (``init_weights`` is not
  called, so no pretrained weight is downloaded), its head's class count
  matches the data set's, and the recipe values match the thesis (Table 7:
  ImageNet init, 448 px, 2 x 8 images, 100 epochs; Table 8: from scratch,
  224 px, batch 32, 300 epochs, lr 0.1).
- One model per (method, backbone) computes a training loss on a tiny batch.
- Each ``*_synthetic-fgvc.py`` sibling trains a few iterations and validates with
  mmengine's Runner on the tiny synthetic data set of the ``synthetic_root``
  fixture (skipped, with the reason, where that fixture is not available).
"""
import glob
import math
import os.path as osp
import re

import pytest
import torch

import projects.fgvc_aam  # noqa: F401
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from tests.helpers import ROOT, load_config
METHOD_DIRS = ('baseline', 'bcnn', 'mc_loss', 'ma_cnn', 'pairwise_confusion',
               'table8')
CONFIGS = sorted(
    osp.relpath(path, ROOT) for d in METHOD_DIRS
    for path in glob.glob(osp.join(ROOT, 'configs', d, '*.py')))
SYNTHETIC = [c for c in CONFIGS if c.endswith('_synthetic-fgvc.py')]
REAL = [c for c in CONFIGS if not c.endswith('_synthetic-fgvc.py')]
CLASSES = {'cub': 200, 'stanford-cars': 196, 'fgvc-aircraft': 100}
EXPECTED_HEAD = {
    'bcnn': 'LinearClsHead', 'mc-loss': 'MCLossHead',
    'mc-loss-ours': 'MCLossHead',
    'bcnn-compact': 'LinearClsHead', 'finetune': 'LinearClsHead',
    'bcnn-fc': 'LinearClsHead', 'bcnn-all': 'LinearClsHead',
    'ma-cnn': 'MACNNHead', 'ma-cnn-simple': 'MACNNHead',
    'pc': 'LinearClsHead', 'center-loss': 'CenterLossHead',
    'sphereface': 'SphereFaceHead', 'focal-loss': 'LinearClsHead',
    'coco-loss': 'COCOHead', 'lgm-loss': 'LGMHead', 'cosface': 'CosFaceHead'
}


pytestmark = pytest.mark.usefixtures('one_thread')


def _missing_bases(path):
    """Base files named by the config chain that do not exist (yet)."""
    missing, todo = [], [osp.join(ROOT, path)]
    while todo:
        current = todo.pop()
        text = open(current).read()
        block = re.search(r'_base_\s*=\s*(\[[^\]]*\]|\'[^\']*\')', text)
        if not block:
            continue
        for rel in re.findall(r"'([^']+\.py)'", block.group(1)):
            if '::' in rel:
                continue
            base = osp.normpath(osp.join(osp.dirname(current), rel))
            if osp.exists(base):
                todo.append(base)
            else:
                missing.append(osp.relpath(base, ROOT))
    return missing


def load(path):
    """A fresh copy of the config (cached parse; skip if bases are absent)."""
    missing = _missing_bases(path)
    if missing:
        pytest.skip(f'base config(s) not in this branch yet: {missing}')
    return load_config(path)


def _data_name(path):
    return osp.basename(path)[:-3].rsplit('_', 1)[-1]


def _method(path):
    return osp.basename(path).split('_', 1)[0]


def test_every_expected_config_exists():
    data = ('cub', 'stanford-cars', 'fgvc-aircraft')
    expected = [
        f'configs/{d}/{name}_2xb8-100e_{x}.py' for d, name in (
            ('bcnn', 'bcnn_vgg16'), ('mc_loss', 'mc-loss-ours_resnet50'),
            ('baseline', 'finetune_resnet50'),
            ('ma_cnn', 'ma-cnn-simple_vgg19'),
            ('pairwise_confusion', 'pc_resnet50')) for x in data
    ] + ['configs/bcnn/bcnn-compact_vgg16_2xb8-100e_cub.py'] + [
        f'configs/mc_loss/mc-loss_resnet50_2xb32-300e_{x}.py' for x in data
    ] + [
        f'configs/table8/{loss}_{bb}_1xb32-300e_{x}.py' for loss in (
            'center-loss', 'sphereface', 'focal-loss', 'coco-loss',
            'lgm-loss', 'cosface', 'mc-loss')
        for bb in ('vgg16bn', 'resnet18') for x in data
    ]
    assert not set(expected) - set(REAL)
    methods = {c.split('/')[1] for c in expected}
    for d in methods:  # a synthetic CPU sibling for every method folder
        assert any(c.startswith(f'configs/{d}/') for c in SYNTHETIC)
    for loss in ('center-loss', 'sphereface', 'focal-loss', 'coco-loss',
                 'lgm-loss', 'cosface', 'mc-loss'):
        assert (f'configs/table8/{loss}_resnet18-w16_1xb16-30e_'
                'synthetic-fgvc.py' in SYNTHETIC)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_matches_recipe(path):
    cfg = load(path)
    head = cfg.model.head
    if _method(path) in EXPECTED_HEAD:  # others (e.g. AAM) are not ours
        assert head.type == EXPECTED_HEAD[_method(path)]
    assert head.num_classes == cfg.data_preprocessor.num_classes
    data = _data_name(path)
    if data in CLASSES:
        assert head.num_classes == CLASSES[data]
    train_pipeline = cfg.train_dataloader.dataset.pipeline
    crops = [t.crop_size for t in train_pipeline if 'RandomCrop' in t.type]
    backbone = cfg.model.backbone
    if _method(path) == 'focal-loss':  # the softmax (classification) form
        assert head.loss.type == 'SoftmaxFocalLoss' and head.loss.gamma == 2
    recipe = re.search(r'_(\d+)xb(\d+)-(\d+)e_', path)
    if data in CLASSES:  # the name states the per-GPU batch and epochs
        assert cfg.train_dataloader.batch_size == int(recipe.group(2))
        assert cfg.train_cfg.max_epochs == int(recipe.group(3))
    if '2xb8-100e' in path:  # Table 7 style: ImageNet-pretrained fine-tuning
        assert backbone.init_cfg.type == 'Pretrained'
        assert backbone.init_cfg.checkpoint.startswith('https://')
        assert cfg.train_dataloader.batch_size == 8
        assert crops == [448]
        assert cfg.train_cfg.max_epochs == 100
    elif '1xb32-300e' in path:  # Table 8: from scratch
        assert 'init_cfg' not in backbone or backbone.init_cfg is None or \
            backbone.init_cfg.get('type') != 'Pretrained'
        assert cfg.train_dataloader.batch_size == 32
        assert crops == [224]
        assert cfg.train_cfg.max_epochs == 300
        assert cfg.optim_wrapper.optimizer.lr == 0.1
    elif data in CLASSES:  # an author's own recipe (README: differences)
        assert crops in ([448], [224]), crops
        if crops == [448]:  # fine-tuned from ImageNet weights, or from
            # an earlier stage (B-CNN's stage 2 loads stage 1)
            assert cfg.get('load_from') or \
                backbone.init_cfg.type == 'Pretrained'
    else:
        assert data == 'synthetic-fgvc'
    if data in CLASSES and data != 'cub' and osp.exists(
            osp.join(ROOT, path.replace(f'_{data}.py', '_cub.py'))):
        # Dataset variants differ from their CUB sibling (which is built and
        # run below) only in the number of classes: same model otherwise.
        cub = load(path.replace(f'_{data}.py', '_cub.py'))
        cub.model.head.num_classes = head.num_classes
        if 'last_stage_channels' in backbone:  # official MC-loss: K x 3
            assert backbone.last_stage_channels == 3 * head.num_classes
            assert head.in_channels == 3 * head.num_classes
            cub.model.backbone.last_stage_channels = 3 * head.num_classes
            cub.model.head.in_channels = 3 * head.num_classes
        if 'last_conv_channels' in backbone:  # official MC-loss VGG-16
            assert list(backbone.last_conv_channels) == [
                None, None, None, 3 * head.num_classes, 3 * head.num_classes]
            assert head.in_channels == 3 * head.num_classes
            cub.model.backbone.last_conv_channels = \
                backbone.last_conv_channels
            cub.model.head.in_channels = 3 * head.num_classes
        assert cfg.model.to_dict() == cub.model.to_dict()


CUB_CONFIGS = [c for c in REAL if c.endswith('_cub.py')]


@pytest.mark.parametrize('path', CUB_CONFIGS)
def test_model_builds_and_computes_a_training_loss(path):
    """Registry build (no init_weights: no download) + one loss on 64 px."""
    cfg = load(path)
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == cfg.model.head.type
    model.train()
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 64, 64)
    k = cfg.model.head.num_classes
    samples = [DataSample().set_gt_label(i) for i in (0, k - 1)]
    losses = model(inputs, samples, mode='loss')
    total = sum(v for key, v in losses.items() if 'loss' in key)
    assert torch.isfinite(total)
    expected = {
        'mc-loss': {'loss_ce', 'loss_dis', 'loss_div'},
        'mc-loss-ours': {'loss_ce', 'loss_dis', 'loss_div'},
        'ma-cnn': {'loss_cls', 'loss_part', 'loss_dis', 'loss_div'},
        'ma-cnn-simple': {'loss_cls', 'loss_part', 'loss_dis', 'loss_div'},
        'center-loss': {'loss_ce', 'loss_center'},
        'lgm-loss': {'loss_cls', 'loss_lkd'},
    }.get(_method(path), {'loss'})
    assert set(losses) == expected


MODEL_BASES = sorted(
    osp.relpath(p, ROOT) for pattern in (
        'configs/_base_/models/bcnn_vgg16.py',
        'configs/_base_/models/mc_loss_ours_resnet50.py',
        'configs/_base_/models/mc_loss_resnet50_official.py',
        'configs/_base_/models/ma_cnn_vgg19.py',
        'configs/_base_/models/resnet50_linear.py',
        'configs/table8/_base_/models/*_resnet18.py')
    for p in glob.glob(osp.join(ROOT, pattern)))


@pytest.mark.parametrize('path', MODEL_BASES)
def test_model_base_builds_without_data_configs(path):
    """The model bases need no data/schedule base: build and run them."""
    cfg = load_config(path)
    model = MODELS.build(cfg.model)
    model.train()
    samples = [DataSample().set_gt_label(i) for i in (0, 1)]
    losses = model(torch.randn(2, 3, 32, 32), samples, mode='loss')
    assert torch.isfinite(sum(v for k, v in losses.items() if 'loss' in k))


def _point_at(cfg, root, num_classes, work_dir):
    cfg.work_dir = work_dir
    cfg.model.head.num_classes = num_classes
    cfg.model.head.topk = (1, )
    cfg.data_preprocessor.num_classes = num_classes
    # The tiny fixture may have fewer than 5 classes: top-1 only.
    cfg.val_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.test_evaluator = cfg.val_evaluator
    for split, n in (('train_dataloader', 8), ('val_dataloader', 4),
                     ('test_dataloader', 4)):
        loader = cfg[split]
        loader.batch_size = 4
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = root
        loader.dataset.indices = n
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.param_scheduler = []  # the epoch schedule is not under test here
    for hook in cfg.get('custom_hooks', []):  # nor the margin milestones
        if hook.get('type') == 'MarginScheduleHook':
            hook.allow_unreached_milestones = True
    cfg.pop('auto_scale_lr', None)
    cfg.randomness = dict(seed=0)
    # The *-synpre_* siblings start from the synthetic pretrained backbone
    # (made by tools/analysis_tools/pretrain_synthetic.py; its loading is
    # tested in test_pretrained_backbone.py): train them from scratch here.
    init = cfg.model.backbone.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        cfg.model.backbone.init_cfg = None


@pytest.mark.slow
@pytest.mark.parametrize('path', SYNTHETIC)
def test_synthetic_sibling_trains_a_few_iterations(path, synthetic_data,
                                                   tmp_path):
    from mmengine.runner import Runner
    cfg = load(path)
    root, num_classes = synthetic_data
    _point_at(cfg, root, num_classes, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    assert runner.iter == 2  # 8 training images in batches of 4
    loss = hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    top1 = hub.get_scalar('val/accuracy/top1').current()
    assert 0.0 <= top1 <= 100.0


def test_mc_loss_resnet50_follows_the_official_script():
    """Values read off MC_ResNet50.py (PRIS-CV/Mutual-Channel-Loss, commit
    9e495cc): groups line 106, Mask lines 110-120, weights lines 35 / 189,
    classifier lines 198-209, optimizer lines 343-353, data lines 69-86."""
    from mmengine.optim import build_optim_wrapper
    cfg = load('configs/mc_loss/mc-loss_resnet50_2xb32-300e_cub.py')
    model = MODELS.build(cfg.model)
    assert model.head.mc_loss.sizes == [10] * 152 + [11] * 48
    assert model.head.mc_loss.num_masked == 4
    assert (model.head.mc_loss.weight_dis,
            model.head.mc_loss.weight_div) == (0.0005, 0.0005 * 10)
    assert isinstance(model.head.reduce, torch.nn.Identity)
    assert isinstance(model.head.gap, torch.nn.AdaptiveMaxPool2d)
    assert [type(m).__name__ for m in model.head.pre_fc] == [
        'BatchNorm1d', 'Linear', 'BatchNorm1d', 'ELU']
    assert model.head.pre_fc[1].out_features == 512
    optim = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    lrs = {}
    for group in optim.param_groups:
        names = {n for n, p in model.named_parameters()
                 if any(p is q for q in group['params'])}
        part = {n.split('.')[0] for n in names}
        assert len(part) == 1
        lrs[part.pop()] = group['lr']
        assert group['weight_decay'] == 5e-4 and group['momentum'] == 0.9
    assert lrs == pytest.approx({'backbone': 0.01, 'head': 0.1})
    assert cfg.param_scheduler.type == 'CosineAnnealingLR'
    assert cfg.param_scheduler.T_max == 300 and cfg.param_scheduler.by_epoch
    assert 2 * cfg.train_dataloader.batch_size == 64
    assert cfg.data_preprocessor.mean == [127.5] * 3
    assert cfg.data_preprocessor.std == [127.5] * 3


def test_table8_mc_loss_resnet18_follows_the_official_script():
    """CUB-200-2011_ResNet18.py (commit 213af45): layer4 600 channels at
    stride 1 (line 169: 14 x 14 at 224 px), global max pool + BN-FC(512)-BN-
    ELU-FC (lines 258-269), xi = 3, alpha 1.5, beta 20, wd 5e-4."""
    cfg = load('configs/table8/mc-loss_resnet18_1xb32-300e_cub.py')
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feat = model.backbone(torch.randn(1, 3, 224, 224))[-1]
    assert feat.shape == (1, 600, 14, 14)
    assert isinstance(model.head.reduce, torch.nn.Identity)
    assert model.head.mc_loss.sizes == [3] * 200
    assert (model.head.mc_loss.weight_dis,
            model.head.mc_loss.weight_div) == (1.5, 20.0)
    assert model.head.pre_fc[1].out_features == 512
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.param_scheduler.milestones == [150, 225]
    assert cfg.data_preprocessor.mean == [127.5] * 3


def test_table8_mc_loss_vgg16_follows_the_official_script():
    """CUB-200-2011.py (commit 1c1ff52): 14 x 14 x 600 maps at 224 px (line
    60), 2 x 2 max pooling to 7 x 7, BN(29400)-FC(512)-BN-ELU-FC (lines
    141-152), wd 5e-4."""
    cfg = load('configs/table8/mc-loss_vgg16bn_1xb32-300e_cub.py')
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feat = model.backbone(torch.randn(1, 3, 224, 224))[-1]
    assert feat.shape == (1, 600, 14, 14)
    assert model.head.pre_fc[0].num_features == 600 * 7 * 7
    assert model.head.pre_fc[1].out_features == 512
    assert model.head.mc_loss.sizes == [3] * 200
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.model.backbone.init_cfg is None  # PyTorch's default init

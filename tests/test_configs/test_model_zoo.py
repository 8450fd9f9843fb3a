"""Model-zoo files: model-index.yml, configs/*/metafile.yml, config READMEs.

Oracles: the ``modelindex`` package (what ``mim`` uses to read model
indexes) for the schema, the files on disk, MMPretrain's registry for the
models, and the data sets' own class counts (thesis Table 6) for the heads.
"""
import functools
import glob
import os.path as osp
import re

import pytest
import torch
import yaml

from tests.helpers import ROOT, load_config

# Configs in configs/ that no metafile names, and why.
ALLOW_LIST = {
    # Short names of the thesis model (two-branch + AAM step); each only
    # inherits the two_branch 8xb2 config named in
    # configs/two_branch/metafile.yml (the thesis's recipe on 8 GPUs).
    'configs/aam_resnet50_cub.py':
    'configs/two_branch/two-branch-aam-step_resnet50_8xb2-100e_cub.py',
    'configs/aam_resnet101_cub.py':
    'configs/two_branch/two-branch-aam-step_resnet101_8xb2-100e_cub.py',
    'configs/aam_resnet50_fgvc-aircraft.py':
    'configs/two_branch/two-branch-aam-step_resnet50_8xb2-100e_fgvc-aircraft.py',
    'configs/aam_resnet50_stanford-cars.py':
    'configs/two_branch/two-branch-aam-step_resnet50_8xb2-100e_stanford-cars.py',
    # The main job of `make quickstart`: the mechanism study's thesis-model
    # row with the AOLM box rule (step 6) at the study's selected two-branch
    # AAM lr and s, on the full training split, from the shipped
    # object-pretrained backbone.
    'configs/quickstart.py':
    'configs/mechanism/two-branch-aam-step-aolm_resnet18-w16-s3-objpre_'
    '1xb16-12e_synthetic-fgvc.py',
    # The data helper's quickstart baseline: the same model and recipe as
    # configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py.
    'configs/baseline/softmax_resnet18-w16_1xb16-30e_synthetic-fgvc.py':
    'configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
    # The Table 8 folder's MC-loss sibling: the same model and recipe as
    # configs/mc_loss/mc-loss_resnet18-w16_1xb16-30e_synthetic-fgvc.py (and
    # model names must be unique in a model index).
    'configs/table8/mc-loss_resnet18-w16_1xb16-30e_synthetic-fgvc.py':
    'configs/mc_loss/mc-loss_resnet18-w16_1xb16-30e_synthetic-fgvc.py',
}
# Classes of each data set (thesis Table 6; the synthetic default is 16).
NUM_CLASSES = {
    'CUB-200-2011': 200,
    'Stanford Cars': 196,
    'FGVC-Aircraft': 100,
    'Synthetic FGVC': 16,
    'Synthetic FGVC pretraining': 48,  # PRETRAIN_PARAMS of the generator
    'Synthetic objects pretraining': 48,  # OBJECTS_PRETRAIN_PARAMS
}
TOP1 = 'Top 1 Accuracy'


def _load(path: str):
    with open(osp.join(ROOT, path)) as f:
        return yaml.safe_load(f)


@functools.lru_cache()
def metafiles():
    index = _load('model-index.yml')
    return {p: _load(p) for p in index['Import']}


def all_models():
    return [(p, m) for p, meta in metafiles().items()
            for m in meta['Models']]


def all_collections():
    return [c for meta in metafiles().values() for c in meta['Collections']]


@pytest.fixture(scope='module', autouse=True)
def fast_mmpretrain_bases():
    """Cache mmengine's lookup of ``mmpretrain::`` bases, which parses all
    of MMPretrain's metafiles with pure-python YAML for every config."""
    import mmengine.config.utils as cfg_utils
    original = cfg_utils._get_cfg_metainfo
    cfg_utils._get_cfg_metainfo = functools.lru_cache()(original)
    yield
    cfg_utils._get_cfg_metainfo = original


def test_model_index_imports_every_metafile():
    index = _load('model-index.yml')
    on_disk = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(index['Import']) == on_disk
    assert len(on_disk) >= 7


def test_modelindex_package_finds_no_error():
    modelindex = pytest.importorskip('modelindex')
    mi = modelindex.load(osp.join(ROOT, 'model-index.yml'))
    errors = mi.check(silent=True)
    # modelindex resolves README paths against the metafile's folder, while
    # MMPretrain's metafiles (ours too) give them from the repository root
    # (upstream's own index gets the same message for every README).
    readme = re.compile(r'Path to README file (\S+) is not a valid file')
    errors = [
        e for e in errors if not (readme.search(e) and osp.isfile(
            osp.join(ROOT, readme.search(e).group(1))))
    ]
    assert errors == []
    mi.build_models_with_collections()
    assert len(mi.models) == len(all_models())


def test_collections_have_upstream_fields():
    names = [c['Name'] for c in all_collections()]
    assert len(names) == len(set(names))
    for col in all_collections():
        meta = col['Metadata']
        assert meta['Training Data'] and meta['Architecture'], col['Name']
        assert col['Paper']['Title'].strip(), col['Name']
        assert re.match(r'https?://', col['Paper']['URL']), col['Name']
        assert osp.isfile(osp.join(ROOT, col['README'])), col['README']


def test_models_have_upstream_fields():
    collections = {c['Name'] for c in all_collections()}
    names = [m['Name'] for _, m in all_models()]
    assert len(names) == len(set(names))
    for path, model in all_models():
        assert model['In Collection'] in collections, model['Name']
        cfg = model['Config']
        assert osp.isfile(osp.join(ROOT, cfg)), cfg
        # Upstream convention: the model name is the config's file name.
        assert osp.splitext(osp.basename(cfg))[0] == model['Name']
        data = model['Metadata']['Training Data']
        assert data in NUM_CLASSES, (model['Name'], data)
        results = model['Results']
        if results is None:
            continue
        for res in results:
            assert res['Task'] == 'Image Classification'
            assert res['Dataset'] == data, model['Name']
            top1 = res['Metrics'][TOP1]
            assert isinstance(top1, (int, float)) and 0 < top1 <= 100


def test_every_result_is_marked_with_its_source():
    """Each non-null ``Results:`` is preceded by a ``# ... reported by``
    comment (nothing here is measured by us yet)."""
    for path in metafiles():
        with open(osp.join(ROOT, path)) as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            if line.strip() == 'Results:':
                assert 'reported by' in lines[i - 1] and lines[
                    i - 1].strip().startswith('#'), f'{path}:{i + 1}'


def test_thesis_numbers_of_method_md():
    """Spot checks against the thesis tables (docs: spec section 5)."""
    top1 = {m['Name']: m['Results'][0]['Metrics'][TOP1]
            for _, m in all_models() if m['Results']}
    assert top1['two-branch-aam-step_resnet50_2xb8-100e_cub'] == 88.3
    assert top1['two-branch-aam-step_resnet50_2xb8-100e_fgvc-aircraft'] == 92.8
    assert top1['two-branch-aam-step_resnet50_2xb8-100e_stanford-cars'] == 94.0
    assert top1['two-branch-aam-step_resnet101_2xb8-100e_cub'] == 89.0
    assert top1['two-branch-aam-step_resnet101_2xb8-100e_fgvc-aircraft'] == 93.3
    assert top1['two-branch-aam-step_resnet101_2xb8-100e_stanford-cars'] == 94.4
    assert top1['arcface-m0.5_resnet50_2xb8-100e_cub'] == 86.8
    assert top1['aam-exp_resnet50_2xb8-100e_cub'] == 87.3
    assert top1['aam-step_resnet18_1xb32-300e_cub'] == 68.36
    assert top1['lgm-loss_vgg16bn_1xb32-300e_stanford-cars'] == 71.27
    assert top1['mc-loss_resnet18_1xb32-300e_fgvc-aircraft'] == 85.57


def test_every_config_is_in_a_metafile_or_allow_listed():
    named = {m['Config'] for _, m in all_models()}
    configs = {
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                           recursive=True)
        if '_base_' not in osp.relpath(p, ROOT).split(osp.sep)
    }
    assert configs - named - set(ALLOW_LIST) == set()
    # The allow-list is not stale and its targets are named.
    assert set(ALLOW_LIST) <= configs
    assert set(ALLOW_LIST.values()) <= named
    assert not set(ALLOW_LIST) & named


def _build(config: str):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import projects.fgvc_aam  # noqa: F401
    init_default_scope('mmpretrain')
    cfg = load_config(config)
    # Building never loads `init_cfg` checkpoints (only init_weights does).
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize(
    'path,model', all_models(), ids=[m['Name'] for _, m in all_models()])
def test_config_loads_and_model_builds(path, model):
    torch.manual_seed(0)
    cfg, net = _build(model['Config'])
    assert cfg.train_cfg.max_epochs == model['Metadata']['Epochs']
    loader = cfg.train_dataloader
    assert loader.batch_size * int(re.search(
        r'_(\d+)xb\d+', model['Name']).group(1)) == model['Metadata'][
            'Batch Size']
    data = model['Metadata']['Training Data']
    assert cfg.model.head.num_classes == NUM_CLASSES[data]
    params = sum(p.numel() for p in net.parameters())
    assert params == model['Metadata']['Parameters'], model['Name']
    # the tools' config checks (issue 13) accept every released config
    from projects.fgvc_aam_hardening.config_checks import check_config
    check_config(cfg)


def _expand_braces(path: str) -> list:
    """``a_{x,y}_b`` -> ``[a_x_b, a_y_b]`` (nested left to right)."""
    m = re.search(r'\{([^{}]*)\}', path)
    if not m:
        return [path]
    return [p for alt in m.group(1).split(',')
            for p in _expand_braces(path[:m.start()] + alt + path[m.end():])]


def test_every_config_the_readme_names_exists():
    """The README's results tables point at real configs (brace patterns
    such as ``{vgg16bn,resnet18}`` expanded)."""
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    named = set()
    for ref in re.findall(r'configs/[\w{},./-]+?\.py', text):
        named.update(_expand_braces(ref))
    assert len(named) > 60  # the three thesis tables are there
    missing = sorted(p for p in named if not osp.isfile(osp.join(ROOT, p)))
    assert missing == []
    assert _expand_braces('a_{x,y}_{1,2}.py') == [
        'a_x_1.py', 'a_x_2.py', 'a_y_1.py', 'a_y_2.py']

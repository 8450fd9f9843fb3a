"""tools/device_check.sh in its CPU tiny mode: benchmark_train.py (fp32 and
channels-last), benchmark_localizer.py and benchmark_data.py run for an
iteration or two and write JSON whose fields and ratios are checked (no
timing assertions: only that figures exist, are finite and consistent)."""
import json
import math
import os.path as osp

import pytest
import torchvision
from mmengine.config import Config

from tests.helpers import ROOT, run

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

MODELS = {'baseline', 'aam', 'two_branch_softmax', 'two_branch_aam'}
# the goals of issue 16
GOALS = dict(two_over_single=2.05, aam_over_linear=0.03, localizer=0.005)


@pytest.fixture(scope='module')
def out(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp('device_check'))
    # tests.helpers.run sets PYTHON to this interpreter
    run(['bash', 'tools/device_check.sh', out],
        env=dict(DEVICE_CHECK_TINY='1'))
    return out


def load(out: str, name: str) -> dict:
    with open(osp.join(out, name)) as f:
        return json.load(f)


def mib(num_params: int) -> float:
    return num_params * 4 / 2**20


@pytest.mark.parametrize('variant', ['fp32', 'channels_last'])
def test_benchmark_train_fields(out, variant):
    res = load(out, f'train_{variant}.json')
    assert set(res['models']) == MODELS
    assert (res['depth'], res['img_size'], res['batch']) == (18, 32, 2)
    assert res['channels_last'] is (variant == 'channels_last')
    assert res['amp'] is False
    assert res['caching_malloc'] is (res['caching_malloc_skipped'] is None)
    # same ResNet-18 + 200-way linear layer as torchvision's
    params = sum(p.numel() for p in torchvision.models.resnet18(
        num_classes=200).parameters())
    assert res['clock'] == 'wall'  # the default; CPU time is in *_cpu
    for name, m in res['models'].items():
        for kind in ('train', 'infer'):
            step_s = m[f'{kind}_step_ms'] / 1e3
            assert step_s > 0 and math.isfinite(step_s)
            assert m[f'{kind}_step_ms_cpu'] > 0
            assert math.isfinite(m[f'{kind}_vs_baseline_cpu'])
            assert m[f'{kind}_images_per_s'] == pytest.approx(2 / step_s)
            assert math.isfinite(m[f'{kind}_vs_baseline'])
            assert m[f'{kind}_vs_baseline'] > 0
        assert m['infer_peak_mib'] >= mib(params)
        # parameters + momentum (+ gradients, activations)
        assert m['train_peak_mib'] >= 2 * mib(params)
    for kind in ('train', 'infer'):
        assert res['models']['baseline'][f'{kind}_vs_baseline'] == 1.0
    assert res['feature_map'] == [512, 1, 1]  # 32 px / stride 32
    for key in ('two_over_single', 'aam_over_linear', 'localizer_share',
                'two_over_single_cpu', 'aam_over_linear_cpu',
                'crop_share', 'two_softmax_over_baseline'):
        assert math.isfinite(res[key]) and res[key] > 0, key
    assert res['localizer_share'] == pytest.approx(
        res['localizer_ms'] / res['models']['two_branch_aam']['train_step_ms'])
    assert res['goals_met'] == dict(
        two_over_single=res['two_over_single'] <= GOALS['two_over_single'],
        aam_over_linear=abs(res['aam_over_linear'] - 1) <=
        GOALS['aam_over_linear'] + 1e-12,
        localizer_share=res['localizer_share'] <= GOALS['localizer'])
    with open(osp.join(out, f'train_{variant}.txt')) as f:
        table = f.read()
    assert all(f'| {name} |' in table for name in MODELS)


def test_benchmark_localizer_fields(out):
    res = load(out, 'localizer.json')
    assert res['identical_boxes'] is True  # ours == scipy's labelling
    assert res['feature_map'] == [512, 2, 2]  # 64 px / stride 32
    assert res['two_over_single'] == pytest.approx(
        res['two_step_ms'] / res['single_step_ms'])
    assert math.isfinite(res['localizer_share'])


def test_benchmark_data_fields(out):
    res = load(out, 'data.json')
    cfg = Config.fromfile(osp.join(ROOT, res['config']))
    assert res['pipeline'] == [
        t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    crop = [t for t in cfg.train_pipeline if 'crop_size' in t][0]
    assert res['output_shape'] == [3, crop['crop_size'], crop['crop_size']]
    assert res['num_images'] == 10  # 5 CUB sizes x 2 classes x 1
    assert res['workers'] == 1 and res['images'] > 0
    per_worker = res['images_per_s_per_worker']
    assert per_worker > 0 and math.isfinite(per_worker)
    assert res['images_per_cpu_s'] > 0
    assert math.isfinite(res['images_per_cpu_s'])
    assert res['per_worker_clock'] == 'wall'  # the default sizes with it
    needed = res['workers_needed']
    expected = {f'train_{v}:{m}' for v in ('fp32', 'channels_last')
                for m in MODELS}
    assert set(needed) == expected
    for name, need in needed.items():
        variant, model = name.split(':')
        rate = load(out, f'{variant}.json')['models'][model][
            'train_images_per_s']
        assert need['train_images_per_s'] == rate
        assert need['workers'] == math.ceil(rate / per_worker)

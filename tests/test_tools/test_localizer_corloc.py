"""tools/analysis_tools/localizer_corloc.py: the precondition measurement
(box baselines by hand; the model's CorLoc against the Runner's own
LocalizationMetric on the same checkpoint)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.helpers import (ROOT, load_tool, python_tool,
                           write_random_checkpoint)

CONFIG = ('configs/mechanism/two-branch-softmax_resnet18-w16-s3-objpre_'
          '1xb16-12e_synthetic-fgvc.py')


def _tool():
    return load_tool('tools/analysis_tools/localizer_corloc.py')


def test_fixed_and_centre_boxes_by_hand():
    lc = _tool()
    gt = torch.tensor([[0., 0., 48., 48.], [48., 48., 96., 96.],
                       [0., 0., 48., 48.]])
    # grid {0, 48, 96}: [0, 0, 48, 48] matches 2 of 3 exactly
    fixed = lc.best_fixed_box(gt, 96, 96, 2)
    assert fixed.tolist() == [0., 0., 48., 48.]
    assert lc.corloc_miou(fixed, gt) == pytest.approx((200 / 3, 200 / 3))
    # centred 48 / 96 wide and high: no IoU >= 0.5 anywhere; the whole
    # image has the best mean IoU (0.25 each against 0.2 or 1/7)
    centre = lc.best_fixed_box(gt, 96, 96, 2, centred=True)
    assert centre.tolist() == [0., 0., 96., 96.]
    assert lc.corloc_miou(centre, gt) == pytest.approx((0., 25.))
    # one box per image
    pred = torch.tensor([[0., 0., 48., 24.], [48., 48., 96., 96.],
                         [60., 60., 96., 96.]])
    # IoU 0.5 (counts: >= 0.5), 1 and 0
    assert lc.corloc_miou(pred, gt) == pytest.approx((200 / 3, 50.))


def _config_on(root: str, num_classes: int) -> Config:
    """The study config on the tests' data set, random weights (no
    pretrained backbone: the tests save their own checkpoint)."""
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.backbone.pop('init_cfg')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.model.head.num_classes = num_classes
    cfg.data_preprocessor.num_classes = num_classes
    return cfg


def test_model_corloc_equals_the_runners_localization_metric(
        synthetic_data, tmp_path):
    """Oracle: the test loop of mmengine's Runner (the comparison's
    evaluate()) with the config's LocalizationMetric on the same checkpoint:
    the tool must see the same normalised inputs and boxes."""
    from fgvc_aam_tools.compare.evaluate import evaluate
    root, num_classes = synthetic_data
    cfg = _config_on(root, num_classes)
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    ckpt = write_random_checkpoint(path, str(tmp_path / 'ckpt.pth'),
                                   seed=3)
    runner = evaluate(path, ckpt)['own']['test']
    mine = _tool().measure(path, ckpt, split='test')
    assert mine['images'] == num_classes * 2
    assert mine['rows']['model']['corloc'] == pytest.approx(
        runner['corloc'])
    assert mine['rows']['whole image']['corloc'] == 0.0


def test_a_carved_run_config_is_measured_on_its_own_validation_split(
        synthetic_data, tmp_path):
    """A comparison run's effective config is carved already: --split val
    reads its val part (it raised 'carved already' before) and the
    training boxes of the fixed-box baseline come from its train part."""
    from fgvc_aam_tools.compare.budget import carve_validation
    root, num_classes = synthetic_data
    cfg = _config_on(root, num_classes)
    carve_validation(cfg, 0.25, 0)  # 1 of the 4 training images per class
    path = str(tmp_path / 'run.py')
    cfg.dump(path)
    ckpt = write_random_checkpoint(path, str(tmp_path / 'ckpt.pth'))
    res = _tool().measure(path, ckpt, split='val')
    assert res['images'] == num_classes  # the carved val part


@pytest.mark.e2e
def test_command_line_as_a_user_runs_it(synthetic_data, tmp_path):
    """The tool in a fresh interpreter (nothing registered or scoped by an
    earlier test): its --out JSON equals the in-process measurement."""
    import json
    root, num_classes = synthetic_data
    cfg = _config_on(root, num_classes)
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    ckpt = write_random_checkpoint(path, str(tmp_path / 'ckpt.pth'),
                                   seed=5)
    out = str(tmp_path / 'corloc.json')
    proc = python_tool('tools/analysis_tools/localizer_corloc.py', path,
                       '--checkpoint', ckpt, '--split', 'test', '--out',
                       out)
    assert 'CorLoc' in proc.stdout
    with open(out) as f:
        got = json.load(f)
    assert got['rows'] == _tool().measure(path, ckpt, split='test')['rows']

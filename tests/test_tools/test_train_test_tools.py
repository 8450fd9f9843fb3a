"""tools/train.py, --resume, tools/test.py and tools/dist_train.sh, end to end.

Each runs as a subprocess on the tiny synthetic data set, like a user would.
"""
import json
import os.path as osp
import re
import shutil

import pytest

from tests.helpers import (ROOT, TINY_CONFIG, data_options, free_port,
                           python_tool, root_and_classes, run, scalars,
                           snapshot)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def last_run_scalars(work_dir: str) -> list:
    """The records of the newest run's ``scalars.json`` (mmengine's
    LocalVisBackend) in ``work_dir``."""
    return scalars(work_dir)[-1]


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    root, num_classes = root_and_classes(synthetic_root)
    work_dir = str(tmp_path_factory.mktemp('train'))
    python_tool('tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
                '--cfg-options', *data_options(root, num_classes))
    return work_dir


def test_train_writes_checkpoints_and_metrics(trained):
    for epoch in (1, 2):
        assert osp.isfile(osp.join(trained, f'epoch_{epoch}.pth'))
    with open(osp.join(trained, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')
    val = [r for r in last_run_scalars(trained) if 'accuracy/top1' in r]
    assert [r['step'] for r in val] == [1, 2]


def test_checkpoint_loads_with_plain_torch_weights_only(trained):
    """torch >= 2.6 loads weights_only by default; our checkpoints hold
    plain types only (PlainCheckpointHook), so a plain torch.load without
    our package (no allow-list) reads them."""
    ckpt = osp.join(trained, 'epoch_2.pth')
    plain = python_tool(
        '-c', 'import sys, torch; '
        f'c = torch.load({ckpt!r}, weights_only=True); '
        "assert 'projects' not in sys.modules; "
        "print(c['meta']['epoch'], sorted(c)[:3])")
    assert plain.stdout.split()[0] == '2'


def test_resume_continues_from_last_epoch(trained, synthetic_root, tmp_path):
    root, num_classes = root_and_classes(synthetic_root)
    work_dir = str(tmp_path / 'resumed')
    shutil.copytree(trained, work_dir)
    # the copied last_checkpoint points into the original work dir
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_2.pth'))
    proc = python_tool('tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
                       '--resume', '--cfg-options', 'train_cfg.max_epochs=3',
                       *data_options(root, num_classes))
    log = proc.stdout + proc.stderr
    assert re.search(r'resumed epoch: 2, iter: \d+', log), log[-3000:]
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))
    steps = [r['step'] for r in last_run_scalars(work_dir)
             if 'accuracy/top1' in r]
    assert steps == [3]


def test_test_tool_reproduces_validation_metric(trained, synthetic_root,
                                                tmp_path):
    """tools/test.py on epoch 2 gives the accuracy validation logged then."""
    root, num_classes = root_and_classes(synthetic_root)
    out = str(tmp_path / 'metrics.json')
    python_tool('tools/test.py', TINY_CONFIG,
                osp.join(trained, 'epoch_2.pth'), '--work-dir',
                str(tmp_path), '--out', out, '--out-item', 'metrics',
                '--cfg-options', *data_options(root, num_classes))
    with open(out) as f:
        tested = json.load(f)['accuracy/top1']
    logged = [r for r in last_run_scalars(trained) if r.get('step') == 2
              and 'accuracy/top1' in r][0]['accuracy/top1']
    assert tested == pytest.approx(logged, abs=1e-6)


def test_dist_train_two_cpu_processes(synthetic_root, tmp_path):
    root, num_classes = root_and_classes(synthetic_root)
    work_dir = str(tmp_path / 'dist')
    proc = run(['bash', 'tools/dist_train.sh', TINY_CONFIG, '2',
                '--work-dir', work_dir, '--cfg-options',
                'train_cfg.max_epochs=1', *data_options(root, num_classes)],
               env={'PORT': str(free_port())})
    log = proc.stdout + proc.stderr
    assert re.search(r'Distributed training: True', log), log[-3000:]
    assert re.search(r'GPU number: 2', log)  # mmengine's word for ranks
    assert "backend='gloo'" in log
    # 16 training images, 4 per process and step: 2 steps an epoch, not 4
    assert re.search(r'Epoch\(train\) \[1\]\[2/2\]', log)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


@pytest.mark.slow
def test_quickstart_tool_generates_trains_tests_and_reruns(tmp_path):
    """The README's first job end to end (on a tiny config and data set):
    data generated, trained, tested, and the summary's top-1 equal to the
    metrics file that tools/test.py wrote; a rerun resumes the finished
    run instead of training again."""
    work = str(tmp_path / 'work')
    data = str(tmp_path / 'data')
    cmd = ['tools/quickstart.py', '--config',
           'tests/configs/tiny_dist_two_branch.py',
           '--work-dir', work, '--data-root', data, '--synthetic-args',
           '--num-classes 4 --images-per-class 6 --train-per-class 4 '
           '--image-size 64', '--cfg-options', 'train_cfg.max_epochs=1']
    first = python_tool(*cmd)
    with open(osp.join(data, 'images.txt')) as f:
        assert len(f.readlines()) == 4 * 6
    with open(osp.join(work, 'test_metrics.json')) as f:
        metrics = json.load(f)
    summary = first.stdout[first.stdout.index('quickstart summary'):]
    top1 = re.search(r'top-1 accuracy \(%\)\s+([0-9.]+)', summary)
    assert float(top1.group(1)) == pytest.approx(
        metrics['accuracy/top1'], abs=0.005)
    assert 'localization/CorLoc' in metrics  # two-branch: boxes scored
    ckpt = re.search(r'checkpoint\s+(\S+)', summary).group(1)
    assert osp.isfile(ckpt if osp.isabs(ckpt) else osp.join(ROOT, ckpt))
    assert osp.isfile(osp.join(work, 'tiny_dist_two_branch.py'))
    picture = re.search(r'picture \(test images, boxes\)\s+(\S+)',
                        summary).group(1)
    assert picture == osp.join(work, 'test_images.png')
    import cv2
    img = cv2.imread(picture)
    assert img is not None and img.shape[0] > 100 and img.std() > 0
    assert 'saved 8 images' in first.stdout  # 4 classes x 2 test images
    # CorLoc in one unit: the picture tool's (all 8 test images) and the
    # summary's agree, both in percent
    drawn = re.search(r'CorLoc ([0-9.]+)%', first.stdout).group(1)
    listed = re.search(r'localization/CorLoc \(%\)\s+([0-9.]+)',
                       summary).group(1)
    assert float(drawn) == pytest.approx(float(listed), abs=0.005)
    again = python_tool(*cmd)
    assert '--resume' in again.stdout
    with open(osp.join(work, 'test_metrics.json')) as f:
        assert json.load(f) == metrics


def test_test_tool_never_writes_over_a_training(trained, synthetic_root,
                                                tmp_path):
    """Issue 22: tools/test.py --work-dir pointed at a training's work dir
    overwrote its saved config. Now every file there is untouched and the
    test writes into a new WORK_DIR/test_<timestamp>/ (config dump, logs)."""
    root, num_classes = root_and_classes(synthetic_root)
    work_dir = str(tmp_path / 'work')
    shutil.copytree(trained, work_dir)
    before = snapshot(work_dir)
    assert osp.basename(TINY_CONFIG) in before  # the training's config
    python_tool('tools/test.py', TINY_CONFIG,
                osp.join(work_dir, 'epoch_2.pth'), '--work-dir', work_dir,
                '--cfg-options', *data_options(root, num_classes))
    after = snapshot(work_dir)
    assert {k: after.get(k) for k in before} == before
    new = sorted(set(after) - set(before))
    folder = new[0]
    assert re.fullmatch(r'test_\d{8}_\d{6}(_\d+)?', folder), new
    assert all(k == folder or k.startswith(folder + osp.sep) for k in new)
    assert osp.join(folder, osp.basename(TINY_CONFIG)) in new

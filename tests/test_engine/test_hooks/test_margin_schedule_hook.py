"""MarginScheduleHook: eqs. 52-54, real Runner runs, resume, DDP wrapper."""
import glob
import json
import math
import os.path as osp
import re
import socket
import uuid
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.engine.hooks import SetAdaptiveMarginsHook
from mmpretrain.registry import HOOKS, MODELS

import projects.fgvc_aam  # noqa: F401  (registry)
from projects.fgvc_aam.engine import load_checkpoint_file
from projects.fgvc_aam.engine.hooks import MarginScheduleHook, margin_at
from tests.helpers import ToyDataset, lenet_classifier, toy_runner


NUM_CLASSES = 3


# ----------------------------------------------------------------- oracle
def oracle(e, schedule, m1, m2, k1, k2):
    """Eqs. 52-54 of the thesis, written out independently."""
    if schedule == 'step':
        return 0.0 if e <= k1 else (m1 if e <= k2 else m2)
    if schedule == 'linear':
        if e <= k1:
            return 0.0
        return m1 * (e - k1) / (k2 - k1) if e <= k2 else m2
    if schedule == 'exponential':
        if e <= k1:
            return 0.0
        return m1 * math.e**((e - k1) / (k2 - k1) - 1) if e <= k2 else m2
    raise AssertionError(schedule)


EQ56 = dict(m1=0.25, m2=0.5, k1=30, k2=60)


@pytest.mark.parametrize('schedule', ['step', 'linear', 'exponential'])
@pytest.mark.parametrize('epoch', [1, 29, 30, 31, 45, 59.5, 60, 61, 100])
def test_margin_at_matches_equations(schedule, epoch):
    expected = oracle(epoch, schedule, **EQ56)
    assert margin_at(epoch, schedule, **EQ56) == pytest.approx(expected)
    hook = MarginScheduleHook(schedule=schedule, **EQ56)
    assert hook.margin_at(epoch) == pytest.approx(expected)


def test_margin_at_hand_values():
    # a few values computed by hand from eqs. 52-54 with eq. 56's settings
    assert margin_at(30, 'step', **EQ56) == 0.0
    assert margin_at(31, 'step', **EQ56) == 0.25
    assert margin_at(61, 'step', **EQ56) == 0.5
    assert margin_at(45, 'linear', **EQ56) == pytest.approx(0.125)
    assert margin_at(60, 'exponential', **EQ56) == pytest.approx(0.25)
    assert margin_at(45, 'exponential', **EQ56) == pytest.approx(
        0.25 * 0.6065306597)
    assert margin_at(7, 'constant', margin=0.5) == 0.5


@pytest.mark.parametrize('kwargs, match', [
    (dict(schedule='cosine'), "'cosine'"),
    (dict(k1=60, k2=30), 'k1=60, k2=30'),
    (dict(k1=30, k2=30), 'k1=30, k2=30'),
    (dict(m1=-0.1), '`m1`.*-0.1'),
    (dict(m2=3.2), '`m2`.*3.2'),
    (dict(m2=math.pi), '`m2`.*3.14159'),
    (dict(k1=-1), '`k1`.*-1'),
    (dict(schedule='constant'), '`margin`.*None'),
    (dict(schedule='constant', margin=4.0), '`margin`.*4.0'),
    (dict(schedule='step', margin=0.5), 'margin=0.5'),
])
def test_invalid_hook_settings_fail_at_build(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HOOKS.build(dict(type='MarginScheduleHook', **kwargs))


@pytest.mark.parametrize('kwargs, match', [
    (dict(m1='0.25'), "`m1`.*'0.25'"),
    (dict(k2=None), '`k2`.*None'),
    (dict(by_iter=1), '`by_iter`.*1'),
    (dict(heads=3), '`heads`.*3'),
    (dict(heads=['head', 4]), '`heads`.*4'),
])
def test_wrong_type_hook_settings_raise_type_error(kwargs, match):
    with pytest.raises(TypeError, match=match):
        HOOKS.build(dict(type='MarginScheduleHook', **kwargs))


@pytest.mark.parametrize('heads', [[], ['head', '']])
def test_empty_heads_raise_value_error(heads):
    with pytest.raises(ValueError, match='`heads`'):
        HOOKS.build(dict(type='MarginScheduleHook', heads=heads))


# ------------------------------------------------------- tiny real setup
def model_cfg(head_type='AngularMarginHead'):
    # MMPretrain's ArcFaceClsHead names the margin `margins`, ours `margin`
    margin = 'margins' if head_type == 'ArcFaceClsHead' else 'margin'
    return lenet_classifier(
        dict(type=head_type, num_classes=NUM_CLASSES, in_channels=120,
             scale=16.0, **{margin: 0.0}), NUM_CLASSES)


class MarginRecorder(Hook):
    """Records the margin the inner head really uses at each iteration."""

    priority = 'LOW'  # after MarginScheduleHook (NORMAL)

    def __init__(self):
        self.rows = []  # (1-based epoch, 0-based global iter, margin)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.rows.append((runner.epoch + 1, runner.iter,
                          float(model.head.margins[0])))


def make_runner(work_dir, hook_cfg, *, model=None, train_cfg=None,
                load_from=None, checkpoint=None, head_type=None,
                batch_size=4):
    recorder = MarginRecorder()
    iter_based = not (train_cfg or {}).get('by_epoch', True)
    # InfiniteSampler: mmengine sleeps 2 s at each epoch end of an iter loop
    sampler = 'InfiniteSampler' if iter_based else 'DefaultSampler'
    runner = toy_runner(
        work_dir,
        model=model if model is not None else model_cfg(
            head_type or 'AngularMarginHead'),
        name='aam',
        sampler=sampler,
        batch_size=batch_size,
        load_from=load_from,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        train_cfg=train_cfg or dict(by_epoch=True, max_epochs=6),
        custom_hooks=[hook_cfg, recorder],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=checkpoint or dict(type='CheckpointHook',
                                          interval=1)),
        visualizer=dict(type='Visualizer',
                        vis_backends=[dict(type='LocalVisBackend')]),
        log_processor=dict(by_epoch=(train_cfg or {}).get('by_epoch',
                                                          True)))
    return runner, recorder


def per_epoch(rows):
    out = {}
    for epoch, _, m in rows:
        out.setdefault(epoch, set()).add(round(m, 6))
    return out


STEP = dict(type='MarginScheduleHook', schedule='step', m1=0.25, m2=0.5,
            k1=2, k2=4)


def test_training_run_follows_schedule_and_resume_continues(tmp_path):
    runner, rec = make_runner(tmp_path / 'full', STEP)
    runner.train()
    expected = {e: oracle(e, 'step', 0.25, 0.5, 2, 4) for e in range(1, 7)}
    got = per_epoch(rec.rows)
    assert got == {e: {round(m, 6)} for e, m in expected.items()}

    # the margin is in the log lines and in LocalVisBackend's scalars
    log_file = glob.glob(osp.join(runner.log_dir, '*.log'))[0]
    logged = {}
    for line in open(log_file):
        hit = re.search(r'Epoch\(train\)\s+\[(\d+)\]\[.*margin: ([\d.]+)',
                        line)
        if hit:
            logged.setdefault(int(hit[1]), set()).add(float(hit[2]))
    assert logged == {e: {m} for e, m in expected.items()}
    info = [ln for ln in open(log_file) if 'MarginScheduleHook: epoch' in ln]
    assert len(info) == 6 and 'margin=0.2500' in info[2]
    scalars = [
        json.loads(ln) for ln in open(
            osp.join(runner.log_dir, 'vis_data', 'scalars.json'))
    ]
    by_epoch = {}
    for row in scalars:
        if 'margin' in row:
            by_epoch.setdefault(row['epoch'], set()).add(row['margin'])
    assert by_epoch == {e: {m} for e, m in expected.items()}

    # the margin buffer is saved in the checkpoints
    # mmengine's checkpoint (HistoryBuffer ...), read as our tools read it
    ckpt = load_checkpoint_file(str(tmp_path / 'full' / 'epoch_3.pth'),
                                map_location='cpu')
    assert ckpt['meta']['epoch'] == 3
    torch.testing.assert_close(ckpt['state_dict']['head.margins'],
                               torch.full((NUM_CLASSES, ), 0.25))

    # resume from epoch 3: epochs 4..6 continue with the right margins
    resumed, rec2 = make_runner(
        tmp_path / 'resumed', STEP,
        load_from=str(tmp_path / 'full' / 'epoch_3.pth'))
    resumed.train()
    got = per_epoch(rec2.rows)
    assert sorted(got) == [4, 5, 6]
    assert got == {e: {round(expected[e], 6)} for e in (4, 5, 6)}
    # and the final weights equal the uninterrupted run's
    for key, value in runner.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value)


def test_iteration_level_schedule_and_resume(tmp_path):
    """by_iter=True under an IterBasedTrainLoop, resumed mid-'epoch'."""
    hook = dict(type='MarginScheduleHook', schedule='linear', m1=0.4,
                m2=0.5, k1=1, k2=3, by_iter=True)
    iters_per_epoch = 3  # 12 images / batch 4
    train_cfg = dict(by_epoch=False, max_iters=13)
    ckpt = dict(type='CheckpointHook', interval=4, by_epoch=False)
    runner, rec = make_runner(tmp_path / 'full', hook,
                              train_cfg=train_cfg, checkpoint=ckpt)
    runner.train()

    def expected(it):
        return oracle((it + 1) / iters_per_epoch, 'linear', 0.4, 0.5, 1, 3)

    assert len(rec.rows) == 13
    for _, it, m in rec.rows:
        assert m == pytest.approx(expected(it), abs=1e-6), it
    # fractional: strictly increasing within the ramp
    ramp = [m for _, it, m in rec.rows if 3 <= it < 9]
    assert all(b > a for a, b in zip(ramp, ramp[1:]))

    resumed, rec2 = make_runner(
        tmp_path / 'resumed', hook, train_cfg=train_cfg, checkpoint=ckpt,
        load_from=str(tmp_path / 'full' / 'iter_4.pth'))
    resumed.train()
    assert [it for _, it, _ in rec2.rows] == list(range(4, 13))
    for _, it, m in rec2.rows:
        assert m == pytest.approx(expected(it), abs=1e-6), it


def test_epoch_level_schedule_under_iter_based_loop(tmp_path):
    """by_iter=False in an IterBasedTrainLoop: e = iter // L + 1."""
    train_cfg = dict(by_epoch=False, max_iters=9)
    runner, rec = make_runner(
        tmp_path, dict(STEP, k1=1, k2=2), train_cfg=train_cfg,
        checkpoint=dict(type='CheckpointHook', interval=100,
                        by_epoch=False))
    runner.train()
    got = [m for _, _, m in rec.rows]
    want = [oracle(it // 3 + 1, 'step', 0.25, 0.5, 1, 2) for it in range(9)]
    assert got == pytest.approx(want)


def test_missing_margin_head_fails_before_training(tmp_path):
    cfg = model_cfg()
    cfg['head'] = dict(type='LinearClsHead', num_classes=NUM_CLASSES,
                       in_channels=120)
    runner, rec = make_runner(tmp_path / 'a', STEP, model=cfg)
    with pytest.raises(RuntimeError, match='no module with a `set_margins`'):
        runner.train()
    assert rec.rows == []  # nothing was trained
    runner, _ = make_runner(tmp_path / 'b', dict(STEP, heads='neck'))
    with pytest.raises(RuntimeError, match="'neck'.*no `set_margins`"):
        runner.train()
    runner, _ = make_runner(tmp_path / 'c', dict(STEP, heads='head.nope'))
    with pytest.raises(RuntimeError, match="'head.nope' is not an"):
        runner.train()


@pytest.mark.parametrize('k1,k2,train_cfg,effect', [
    (6, 8, None, 'k1=6 and k2=8 at or beyond the last epoch \\(6\\): the '
     'margin stays 0'),
    (2, 6, None, 'k2=6 at or beyond the last epoch \\(6\\): m2=0.5 is '
     'never used'),
    (1, 3, dict(by_epoch=False, max_iters=9), 'k2=3 .*last epoch \\(3\\)'),
])
def test_milestones_the_run_never_passes_are_refused(tmp_path, k1, k2,
                                                     train_cfg, effect):
    """Issue 22: milestones beyond max_epochs kept the margin at 0 (or
    never reached m2) with no word; refused before training now."""
    runner, rec = make_runner(tmp_path, dict(STEP, k1=k1, k2=k2),
                              train_cfg=train_cfg)
    with pytest.raises(ValueError, match=effect):
        runner.train()
    assert rec.rows == []  # nothing was trained


def test_deliberate_late_milestones_warn_and_train(tmp_path):
    runner, rec = make_runner(
        tmp_path, dict(STEP, k1=6, k2=8, allow_unreached_milestones=True),
        train_cfg=dict(by_epoch=True, max_epochs=2))
    runner.train()
    assert {m for _, _, m in rec.rows} == {0.0}
    logs = glob.glob(str(tmp_path / '*' / '*.log'))
    with open(logs[0]) as f:
        assert 'WARNING - MarginScheduleHook: k1=6 and k2=8' in f.read()


# --------------------------------------------------------------- wrappers
@pytest.fixture
def gloo_group():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    dist.init_process_group('gloo', world_size=1, rank=0,
                            init_method=f'tcp://127.0.0.1:{port}')
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize('head_type', ['AngularMarginHead', 'ArcFaceClsHead'])
def test_hook_reaches_inner_head_under_ddp(tmp_path, gloo_group, head_type):
    init_default_scope('mmpretrain')
    model = MODELS.build(model_cfg(head_type))
    wrapped = MMDistributedDataParallel(module=model, device_ids=None)
    runner, rec = make_runner(tmp_path, dict(STEP, k1=1, k2=2),
                              model=wrapped,
                              train_cfg=dict(by_epoch=True, max_epochs=3))
    runner.train()
    assert is_model_wrapper(runner.model)
    assert per_epoch(rec.rows) == {1: {0.0}, 2: {0.25}, 3: {0.5}}
    torch.testing.assert_close(model.head.margins,
                               torch.full((NUM_CLASSES, ), 0.5))


def test_upstream_set_adaptive_margins_hook_fails_under_ddp(gloo_group):
    """Documents the upstream bug our hook avoids: it reads
    ``runner.model.head`` on the wrapper."""
    init_default_scope('mmpretrain')
    model = MODELS.build(model_cfg('ArcFaceClsHead'))
    wrapped = MMDistributedDataParallel(module=model, device_ids=None)
    runner = SimpleNamespace(
        model=wrapped,
        train_dataloader=SimpleNamespace(dataset=ToyDataset()))
    with pytest.raises(AttributeError, match='head'):
        SetAdaptiveMarginsHook().before_train(runner)
    # ours, on the same wrapped model, reaches the inner head
    hook = MarginScheduleHook(schedule='constant', margin=0.3)
    fake = SimpleNamespace(
        model=wrapped, epoch=0, iter=0, train_dataloader=[0, 1, 2],
        message_hub=MessageHub.get_instance(f'mh_{uuid.uuid4().hex}'),
        logger=MMLogger.get_current_instance(), train_loop=None)
    hook.before_run(fake)
    hook.before_train_epoch(fake)
    torch.testing.assert_close(model.head.margins,
                               torch.full((NUM_CLASSES, ), 0.3))
    assert fake.message_hub.get_scalar('train/margin').current() == 0.3

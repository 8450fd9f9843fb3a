"""NonFiniteLossHook stops a real run at the first NaN loss term."""
import math
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import CheckpointHook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam_hardening.hooks import NonFiniteLossHook


class NaNAtIter(BaseModel):
    """Two loss terms; ``loss_aux`` becomes NaN at call ``nan_at`` (1-based).

    The NaN reaches the weights through the optimizer step, so later losses
    stay NaN (as in a real divergence).
    """

    def __init__(self, nan_at):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.nan_at = nan_at
        self.calls = 0

    def forward(self, inputs, labels=None, mode='loss'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(x).squeeze(1)
        if mode != 'loss':
            return out
        self.calls += 1
        factor = float('nan') if self.calls == self.nan_at else 0.0
        return dict(loss_cls=((out - 1)**2).mean(),
                    loss_aux=self.fc.weight.sum() * factor)


class Data(torch.utils.data.Dataset):

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]))


def run(tmp_path, hook_cfg, nan_at=5, max_epochs=3):
    runner = Runner(
        model=NaNAtIter(nan_at),
        work_dir=str(tmp_path),
        experiment_name=f'nan_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=Data(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2, num_workers=0),  # 3 iterations per epoch
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        # plain checkpoints, as our configs write them
        custom_hooks=[*([hook_cfg] if hook_cfg else []),
                      dict(type='PlainCheckpointHook')],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1)),
        default_scope='mmpretrain')
    runner.train()
    return runner


def test_nan_stops_run_before_checkpoint(tmp_path):
    # iteration 5 = epoch 2, batch 2
    with pytest.raises(FloatingPointError) as err:
        run(tmp_path, dict(type='NonFiniteLossHook'), nan_at=5)
    msg = str(err.value)
    assert 'loss_aux=nan' in msg and 'loss_cls' not in msg
    assert 'iteration 5 ' in msg and 'epoch 2' in msg and 'batch 2' in msg
    assert (tmp_path / 'epoch_1.pth').exists()
    assert not (tmp_path / 'epoch_2.pth').exists()
    assert not (tmp_path / 'last_checkpoint').read_text().strip().endswith(
        'epoch_2.pth')


def test_without_hook_nan_checkpoints_are_written(tmp_path):
    """The failure mode the hook prevents (oracle for the test above)."""
    run(tmp_path, None, nan_at=5)
    from projects.fgvc_aam.engine import load_checkpoint_file
    ckpt = load_checkpoint_file(str(tmp_path / 'epoch_2.pth'), 'cpu')
    assert torch.isnan(ckpt['state_dict']['fc.weight']).all()


def test_check_every_and_disabled(tmp_path):
    # checked at iterations 2, 4, 6: the NaN of iteration 5 persists
    # (NaN weights) and is caught at iteration 6, naming every term
    with pytest.raises(FloatingPointError, match='iteration 6 ') as err:
        run(tmp_path / 'a', dict(type='NonFiniteLossHook', check_every=2))
    assert 'loss_cls=nan' in str(err.value)
    assert not (tmp_path / 'a' / 'epoch_2.pth').exists()
    run(tmp_path / 'b', dict(type='NonFiniteLossHook', enabled=False))
    assert (tmp_path / 'b' / 'epoch_3.pth').exists()


def test_runs_before_checkpoint_hook():
    from mmengine.runner.priority import get_priority
    assert get_priority(NonFiniteLossHook.priority) < get_priority(
        CheckpointHook.priority)
    assert get_priority(NonFiniteLossHook.priority) < get_priority('NORMAL')


def test_non_finite_terms_unit():
    f = NonFiniteLossHook.non_finite_terms
    assert f(dict(loss=torch.tensor(1.0), acc=3.0)) == []
    assert f(None) == []
    bad = f(dict(a=torch.tensor(1.0), b=torch.tensor([1.0, math.inf]),
                 c=float('nan')))
    assert bad == ['c=nan', 'b=[1.0, inf]']


@pytest.mark.parametrize('kwargs, match', [
    (dict(check_every=0), '`check_every`.*0'),
    (dict(check_every=1.5), '`check_every`.*1.5'),
    (dict(enabled='yes'), "`enabled`.*'yes'"),
])
def test_invalid_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        HOOKS.build(dict(type='NonFiniteLossHook', **kwargs))

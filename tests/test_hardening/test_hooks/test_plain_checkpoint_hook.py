"""PlainCheckpointHook: checkpoints plain torch.load(weights_only=True)
reads (no allow-list), and resume gets mmengine's objects back."""
import sys

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam_hardening.hooks import PlainCheckpointHook
from projects.fgvc_aam_hardening.hooks.plain_checkpoint_hook import (
    from_plain, to_plain)
from tests.helpers import run


def _checkpoint():
    hub = MessageHub(name='plain_ckpt_test')
    for step, loss in enumerate([2.5, 1.25, 0.75], 1):
        hub.update_scalar('train/loss', loss)
        hub.update_scalar('train/lr', np.float32(0.1 / step), count=2)
    hub.update_info('epoch', 3)
    hub.update_info('best', np.float64(0.5))
    return hub, dict(
        meta=dict(epoch=3, seed=np.int64(7), arr=np.arange(3)),
        state_dict={'w': torch.ones(2)},
        message_hub=hub.state_dict(),
        param_schedulers=[{'last_epoch': 3, 'base_lrs': [0.1]}])


def test_saved_checkpoint_loads_without_allow_list(tmp_path):
    """Oracle: a fresh interpreter that never imports our package (so no
    allow-list) loads the file with torch's safe loader."""
    _, ckpt = _checkpoint()
    PlainCheckpointHook().before_save_checkpoint(None, ckpt)
    path = str(tmp_path / 'plain.pth')
    torch.save(ckpt, path)
    code = ('import sys, torch; '
            f'c = torch.load({path!r}, weights_only=True); '
            "assert 'projects.fgvc_aam' not in sys.modules; "
            "print(c['meta']['epoch'], c['meta']['seed'])")
    proc = run([sys.executable, '-c', code])
    assert proc.stdout.split() == ['3', '7']
    # and without the hook the same content is refused by plain torch
    _, raw = _checkpoint()
    torch.save(raw, path)
    proc = run([sys.executable, '-c',
                f'import torch; torch.load({path!r}, weights_only=True)'],
               check=False)
    assert proc.returncode != 0 and 'weights_only' in proc.stderr


def test_load_restores_what_mmengine_saved(tmp_path):
    """Oracle: the original MessageHub; after save -> weights_only load ->
    after_load_checkpoint -> MessageHub.load_state_dict, every scalar
    history (values, counts, dtypes) and runtime info is back."""
    hub, ckpt = _checkpoint()
    hook = PlainCheckpointHook()
    hook.before_save_checkpoint(None, ckpt)
    path = str(tmp_path / 'plain.pth')
    torch.save(ckpt, path)
    loaded = torch.load(path, weights_only=True)
    hook.after_load_checkpoint(None, loaded)
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    restored = MessageHub(name='plain_ckpt_restored')
    restored.load_state_dict(loaded['message_hub'])
    for key, buf in hub.log_scalars.items():
        got = restored.get_scalar(key)
        for a, b in zip(got.data, buf.data):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
        assert got.max_length == buf.max_length
    assert restored.get_info('epoch') == 3
    assert restored.get_info('best') == 0.5
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_a_one_cycle_scheduler_state_saves_without_code_and_resumes(
        tmp_path):
    """mmengine's OneCycleLR keeps its annealing function (a bound method)
    in its state: the checkpoint of a config that uses it was refused by a
    weights_only load. The function is left out and the resumed scheduler
    (built from the config, as --resume does) continues the same lrs."""
    from mmengine.optim.scheduler import OneCycleLR

    def sched():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        return opt, OneCycleLR(opt, eta_max=0.1, total_steps=20,
                               by_epoch=False)
    opt, s = sched()
    for _ in range(7):
        opt.step()
        s.step()
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(param_schedulers=[to_plain(s.state_dict())]), path)
    state = torch.load(path, weights_only=True)['param_schedulers'][0]
    assert not any(callable(v) for v in state.values())
    opt2, s2 = sched()
    opt2.load_state_dict(opt.state_dict())
    s2.load_state_dict(from_plain(state))
    for _ in range(10):
        opt.step(), s.step(), opt2.step(), s2.step()
        assert opt2.param_groups[0]['lr'] == opt.param_groups[0]['lr']

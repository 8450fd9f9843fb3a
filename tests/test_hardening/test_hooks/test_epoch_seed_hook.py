"""EpochSeedHook: the random numbers of training epoch e depend only on
(seed, e, rank), in the main process and in data loader workers.

End to end (a killed and resumed ``tools/train.py`` run with random crop
and flip) in ``tests/test_hardening/test_resume_end_to_end.py``.
"""
import random
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from mmpretrain.registry import HOOKS
from torch.utils.data import DataLoader, Dataset

import projects.fgvc_aam  # noqa: F401
from projects.fgvc_aam_hardening.hooks import EpochSeedHook
from projects.fgvc_aam_hardening.hooks.epoch_seed_hook import epoch_seed

pytestmark = pytest.mark.reliability


def fake_runner(seed, epoch, loader=None):
    return SimpleNamespace(seed=seed, epoch=epoch,
                           train_dataloader=loader or [])


def draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(())))


def expected_draws(seed, epoch, rank=0):
    """The documented derivation, written out: SeedSequence of
    (seed, epoch, rank, worker + 1) with worker = -1 in the main process."""
    s = int(np.random.SeedSequence([seed, epoch, rank,
                                    0]).generate_state(1)[0])
    return (random.Random(s).random(), float(np.random.RandomState(s).rand()),
            float(torch.rand((), generator=torch.Generator().manual_seed(s))))


def test_epoch_seed_mixes_every_input():
    base = epoch_seed(0, 1, 0)
    assert base == epoch_seed(0, 1, 0)
    others = {epoch_seed(1, 1, 0), epoch_seed(0, 2, 0), epoch_seed(0, 1, 1),
              epoch_seed(0, 1, 0, 0), epoch_seed(0, 1, 0, 1)}
    assert base not in others and len(others) == 5
    assert all(0 <= s < 2**32 for s in others)


def test_main_process_draws_depend_only_on_seed_and_epoch():
    hook = HOOKS.build(dict(type='EpochSeedHook'))
    results = []
    for consumed in (0, 7, 1000):  # whatever happened before the epoch
        for _ in range(consumed):
            draws()
        hook.before_train_epoch(fake_runner(seed=5, epoch=3))
        results.append(draws())
    assert results[0] == results[1] == results[2] == expected_draws(5, 3)
    hook.before_train_epoch(fake_runner(seed=5, epoch=4))
    assert draws() != results[0]
    hook.before_train_epoch(fake_runner(seed=6, epoch=3))
    assert draws() != results[0]


def test_ranks_get_their_own_stream_unless_disabled():
    per_rank = {}
    for diff in (True, False):
        hook = EpochSeedHook(diff_rank_seed=diff)
        for rank in (0, 1):
            with mock.patch(
                    'projects.fgvc_aam_hardening.hooks.epoch_seed_hook.'
                    'get_rank',
                    return_value=rank):
                hook.before_train_epoch(fake_runner(seed=0, epoch=1))
            per_rank[diff, rank] = draws()
    assert per_rank[True, 0] != per_rank[True, 1]
    assert per_rank[True, 1] == expected_draws(0, 1, rank=1)
    assert per_rank[False, 0] == per_rank[False, 1] == per_rank[True, 0]


def test_runner_without_seed_is_left_alone():
    np.random.seed(123)
    expected = np.random.RandomState(123).rand()
    EpochSeedHook().before_train_epoch(fake_runner(seed=None, epoch=0))
    assert np.random.rand() == expected


class RandomNumbers(Dataset):
    """Each item is a fresh draw of the worker's global RNGs (as random
    augmentation makes)."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return torch.tensor([random.random(), np.random.rand(),
                             float(torch.rand(()))])


def _epoch_of_workers(hook, epoch, persistent=False):
    loader = DataLoader(RandomNumbers(), batch_size=1, num_workers=2,
                        persistent_workers=persistent)
    hook.before_train_epoch(fake_runner(seed=0, epoch=epoch, loader=loader))
    return torch.cat(list(loader))


def test_workers_are_seeded_per_epoch_and_replay_after_resume():
    hook = EpochSeedHook()
    first = _epoch_of_workers(hook, 0)
    second = _epoch_of_workers(hook, 1)
    # the two workers draw different numbers, and new ones every epoch
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(first, second)
    # a "resumed" run building a new loader replays epoch 1 exactly
    assert torch.equal(_epoch_of_workers(hook, 1), second)


def test_persistent_workers_are_reported():
    loader = DataLoader(RandomNumbers(), num_workers=1,
                        persistent_workers=True)
    with pytest.warns(UserWarning, match='persistent workers'):
        EpochSeedHook().before_train(fake_runner(0, 0, loader))


def test_diff_rank_seed_must_be_bool():
    with pytest.raises(TypeError, match='`diff_rank_seed`'):
        EpochSeedHook(diff_rank_seed='yes')

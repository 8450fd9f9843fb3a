"""Reseed the random number generators at every training epoch, so that a
run resumed at an epoch boundary replays exactly what an uninterrupted run
does (random crops and flips included)."""
import functools
import random
import warnings

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.utils.checks import check_bool


def epoch_seed(seed: int, epoch: int, rank: int = 0,
               worker: int = -1) -> int:
    """A 32-bit seed mixed from ``(seed, epoch, rank, worker)`` with numpy's
    ``SeedSequence`` (nearby inputs give unrelated streams)."""
    entropy = [int(seed) % 2**64, int(epoch), int(rank), int(worker) + 1]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def seed_all(seed: int) -> None:
    """Seed python's ``random``, numpy's global RNG and torch (all
    devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _seed_worker(worker_id: int, seed: int, epoch: int, rank: int) -> None:
    """``worker_init_fn`` of the data loader workers of one epoch."""
    seed_all(epoch_seed(seed, epoch, rank, worker_id))


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Make the randomness of training epoch ``e`` a function of
    ``(seed, e, rank)`` only.

    mmengine seeds the RNGs once, when the runner is built, and a checkpoint
    does not hold their states. Random augmentation (``RandomFlip``,
    ``RandomCrop``, ... draw from numpy's and python's global RNGs), dropout
    or MC-loss's random channel masks therefore draw different numbers after
    ``--resume`` than in an uninterrupted run, and the weights diverge.

    Before every training epoch this hook seeds ``random``, ``numpy`` and
    ``torch`` from ``(runner.seed, epoch, rank)`` (``runner.seed`` is the
    ``randomness.seed`` of the config, or the seed stored in the checkpoint
    when resuming). Data loader workers (``num_workers > 0``) get
    ``(seed, epoch, rank, worker_id)`` through ``worker_init_fn``, which
    also gives them new numbers every epoch (mmengine's own
    ``worker_init_fn`` reseeds them identically each epoch).

    Exact replay then holds for resumes at epoch boundaries (the checkpoints
    of an epoch-based loop) with ``num_workers=0`` or non-persistent
    workers. Persistent workers (MMPretrain's ``tools/train.py`` default
    when ``num_workers > 0``; ``--no-persistent-workers`` turns it off) are
    started once, so only their first epoch is seeded this way; the hook
    warns about it. The sampler's order is already a function of
    ``(seed, epoch)`` (``DefaultSampler``).

    Args:
        diff_rank_seed (bool): Give each distributed rank its own stream
            (mmengine's default gives all ranks the same one). Defaults to
            True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, diff_rank_seed: bool = True) -> None:
        self.diff_rank_seed = check_bool('diff_rank_seed', diff_rank_seed,
                                         'EpochSeedHook')

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if getattr(loader, 'num_workers', 0) > 0 and getattr(
                loader, 'persistent_workers', False):
            warnings.warn(
                'EpochSeedHook: the training data loader has persistent '
                'workers; their random augmentation is seeded once, so a '
                'resumed run does not replay it exactly. Use '
                '`persistent_workers=False` (or --no-persistent-workers) '
                'for bit-exact resumes.')

    def before_train_epoch(self, runner) -> None:
        seed = runner.seed
        if seed is None:  # a runner built without `randomness`
            return
        rank = get_rank() if self.diff_rank_seed else 0
        seed_all(epoch_seed(seed, runner.epoch, rank))
        loader = runner.train_dataloader
        if getattr(loader, 'num_workers', 0) > 0:
            loader.worker_init_fn = functools.partial(
                _seed_worker, seed=seed, epoch=runner.epoch, rank=rank)

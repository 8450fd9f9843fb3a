"""Stop training at the first NaN / inf loss instead of saving NaN weights."""
import math
import numbers
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.utils.checks import check_bool, check_int


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise ``FloatingPointError`` when a logged loss term is NaN or inf.

    After a training iteration the ``outputs`` of ``train_step`` (the dict
    of logged loss terms, e.g. ``loss``, ``loss_raw``, ``loss_object``) are
    checked; if any is not finite the run stops with an error naming the
    term(s), their values, the iteration and the epoch. The hook runs at
    priority ``ABOVE_NORMAL`` (40), i.e. before ``LoggerHook`` (60) and
    ``CheckpointHook`` (90), so no checkpoint is written from the broken
    weights (the optimizer step of that iteration has already happened).

    Cost: one host-device synchronisation per checked iteration (all terms
    are reduced on the device first). mmengine's ``RuntimeInfoHook`` already
    calls ``.item()`` on every logged term each iteration, so this adds no
    new stall in practice; use ``check_every`` to check less often.

    Args:
        enabled (bool): Turn the check on/off. Defaults to True.
        check_every (int): Check every ``check_every`` training iterations
            (>= 1). Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, enabled: bool = True, check_every: int = 1) -> None:
        owner = 'NonFiniteLossHook'
        self.enabled = check_bool('enabled', enabled, owner)
        self.check_every = check_int('check_every', check_every, 1, owner)

    @staticmethod
    def non_finite_terms(outputs: Optional[Dict]) -> List[str]:
        """Names (with values) of the non-finite entries of ``outputs``."""
        if not outputs:
            return []
        tensors = {
            k: v
            for k, v in outputs.items() if isinstance(v, torch.Tensor)
        }
        bad = [
            f'{k}={v}' for k, v in outputs.items()
            if isinstance(v, numbers.Real) and not math.isfinite(v)
        ]
        if tensors:
            flat = torch.cat(
                [v.detach().float().reshape(-1) for v in tensors.values()])
            if not bool(torch.isfinite(flat).all()):  # the one host sync
                for k, v in tensors.items():
                    if not bool(torch.isfinite(v.detach()).all()):
                        value = v.detach().float().reshape(-1)
                        shown = (value.item()
                                 if value.numel() == 1 else value.tolist())
                        bad.append(f'{k}={shown}')
        return bad

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not self.enabled or not self.every_n_train_iters(
                runner, self.check_every):
            return
        bad = self.non_finite_terms(outputs)
        if bad:
            raise FloatingPointError(
                f'Non-finite loss at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}, batch {batch_idx + 1} of that epoch): '
                f'{", ".join(bad)}. Training stopped before saving a '
                'checkpoint; lower the learning rate, check the data, or '
                'resume from the last good checkpoint.')

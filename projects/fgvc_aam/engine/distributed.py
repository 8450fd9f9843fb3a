"""Data-parallel training on machines without CUDA (CPU + gloo).

mmengine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device`` and
its runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``; both fail
on a CPU-only machine. The runner skips its own ``init_dist`` when a process
group already exists, so we initialise one with the ``gloo`` backend first
and ask for ``MMDistributedDataParallel`` with ``device_ids=None``.
"""
import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` (in place) for a CPU data-parallel run.

    Does nothing unless ``cfg.launcher`` is ``'pytorch'`` (``torchrun``) and
    CUDA is unavailable. Returns whether the CPU path was taken.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        # torchrun exports MASTER_ADDR/PORT, RANK and WORLD_SIZE (env://).
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    env_cfg = cfg.get('env_cfg') or ConfigDict()
    env_cfg.setdefault('dist_cfg', ConfigDict())['backend'] = 'gloo'
    cfg.env_cfg = env_cfg
    return True

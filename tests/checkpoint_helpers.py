"""Tiny checkpoints for the tool tests (no training: seeded random init)."""
from typing import List, Optional, Sequence

import torch


def write_random_checkpoint(config: str,
                            path: str,
                            cfg_options: Optional[dict] = None,
                            classes: Optional[Sequence[str]] = None,
                            seed: int = 0) -> str:
    """Build ``config``'s model (seeded), save it as mmengine does
    (``state_dict`` + ``meta.dataset_meta``) and return ``path``."""
    import projects.fgvc_aam  # noqa: F401
    from mmengine.config import Config
    from mmpretrain.apis import get_model
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = get_model(cfg)
    meta = {'dataset_meta': {'classes': list(classes)}} if classes else {}
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, path)
    return path


def class_names(root: str) -> List[str]:
    """Class names of a CUB-layout data root (``classes.txt``)."""
    with open(f'{root}/classes.txt') as f:
        return [line.split(maxsplit=1)[1].strip() for line in f
                if line.strip()]

"""A failed weight download says what to do offline.

mmengine downloads ``init_cfg`` checkpoints (``type='Pretrained'``) and
``load_from`` URLs when the run starts; without a network the run ends in
a bare ``URLError: Name or service not known``.
:func:`explain_failed_downloads` wraps mmengine's ``http(s)://``
checkpoint loader (through ``CheckpointLoader.register_scheme``) so that a
failed download raises
:class:`WeightDownloadError` naming the URL, the cache file mmengine would
read instead, and the ``--cfg-options`` key of the config that names the
URL, to point at a local file.
"""
import os.path as osp
from typing import Any, Dict, Optional
from urllib.error import URLError

from mmengine.config import Config

from projects.fgvc_aam.compat.mmengine import checkpoint_loader_for

_URL_PREFIXES = ('http://', 'https://')


class WeightDownloadError(RuntimeError):
    """A checkpoint URL could not be downloaded."""


def checkpoint_urls(cfg: Config) -> Dict[str, str]:
    """``{url: config key}`` of every ``init_cfg.checkpoint`` under
    ``cfg.model`` and of ``cfg.load_from`` that is an http(s) URL."""
    found: Dict[str, str] = {}

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == 'checkpoint' and isinstance(v, str) and v.startswith(
                        _URL_PREFIXES):
                    found.setdefault(v, f'{key}.{k}')
                else:
                    walk(v, f'{key}.{k}')
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, f'{key}.{i}')

    walk(cfg.get('model'), 'model')
    load_from = cfg.get('load_from')
    if isinstance(load_from, str) and load_from.startswith(_URL_PREFIXES):
        found.setdefault(load_from, 'load_from')
    return found


def cache_file(url: str, model_dir: Optional[str] = None) -> str:
    """Where mmengine's ``load_url`` looks for ``url`` before downloading
    (``<torch hub dir>/checkpoints/<file name>``)."""
    import torch.hub
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    return osp.join(model_dir, osp.basename(url.split('?')[0]))


def explain(url: str, error: BaseException,
            key: Optional[str] = None) -> str:
    """The message of a failed download of ``url``."""
    name = osp.basename(url.split('?')[0])
    option = f'{key}=/path/to/{name}' if key else \
        f'model.backbone.init_cfg.checkpoint=/path/to/{name} (or the key ' \
        'of your config that names this URL)'
    return (f'could not download the checkpoint {url} ({error}). Offline? '
            f'Download it elsewhere, then either copy it to mmengine\'s '
            f'cache, {cache_file(url)}, or point the config at it: '
            f'--cfg-options {option}')


def explain_failed_downloads(cfg: Optional[Config] = None) -> None:
    """Make mmengine's http(s) checkpoint loader raise
    :class:`WeightDownloadError` (see the module docstring); the keys of
    ``cfg`` that name URLs go into the message. Calling it again updates
    them."""
    from mmengine.runner.checkpoint import CheckpointLoader
    keys = checkpoint_urls(cfg) if cfg is not None else {}
    loader = checkpoint_loader_for(_URL_PREFIXES[1])
    original = getattr(loader, '__wrapped__', loader)

    def load_with_advice(filename, map_location=None, *args, **kwargs):
        try:
            return original(filename, map_location, *args, **kwargs)
        except (URLError, ConnectionError, TimeoutError) as e:
            raise WeightDownloadError(
                explain(filename, e, keys.get(filename))) from e

    load_with_advice.__wrapped__ = original
    CheckpointLoader.register_scheme(
        prefixes=_URL_PREFIXES, loader=load_with_advice, force=True)

"""Train a model: MMPretrain's ``tools/train.py`` with the same flags.

Adds what this stack needs (see ``projects/fgvc_aam/engine/runtime_setup.py``):
registration of the fgvc_aam components, checkpoints loadable with
torch >= 2.6 (``--resume``), CPU data-parallel runs under ``torchrun``, and
``num_workers=0`` without the ``persistent_workers`` error.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from projects.fgvc_aam.engine import (  # noqa: E402
    finish_data_parallel_run, load_mmpretrain_tool, prepare_runtime)
from projects.fgvc_aam.engine.caching_malloc import \
    enable_caching_malloc  # noqa: E402


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    upstream = load_mmpretrain_tool('train')
    args = upstream.parse_args()
    cfg = upstream.merge_args(Config.fromfile(args.config), args)
    prepare_runtime(cfg)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()
    finish_data_parallel_run(runner)


if __name__ == '__main__':
    main()

"""Train a model: MMPretrain's ``tools/train.py`` with the same flags.

Adds what this stack needs
(:mod:`projects.fgvc_aam_hardening.runtime_setup`): the run-time fixes of
:mod:`projects.fgvc_aam_hardening.runtime_fixes` (checkpoints that
plain mmengine wrote loadable with torch >= 2.6, CPU data-parallel runs
under ``torchrun``, ``num_workers=0`` without the ``persistent_workers``
error) and the guards that lose nothing (one run per work dir, no
overwritten checkpoints, ``--resume`` from the newest intact checkpoint);
its flags are checked before any work (:mod:`fgvc_aam_tools.tool_args`).
"""
import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from fgvc_aam_tools.tool_args import check_train_args
from projects.fgvc_aam_hardening.runtime_fixes import finish_data_parallel_run
from projects.fgvc_aam_hardening.runtime_setup import (load_mmpretrain_tool,
                                                       prepare_runtime)


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    upstream = load_mmpretrain_tool('train')
    args = check_train_args(upstream.parse_args())
    cfg = upstream.merge_args(Config.fromfile(args.config), args)
    prepare_runtime(cfg)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()
    finish_data_parallel_run(runner)


if __name__ == '__main__':
    main()

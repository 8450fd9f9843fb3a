"""Test a checkpoint: MMPretrain's ``tools/test.py``, run as is.

Its ``main`` (flags, ``--out``/``--out-item``, runner, ``runner.test()``)
runs unchanged; ours checks its flags before any work
(:mod:`fgvc_aam_tools.tool_args`: an ``--out`` that exists, lies in a
missing folder or has an extension MMPretrain cannot write is refused),
adds the fixes of ``tools/train.py`` after its ``merge_args`` (in
particular checkpoints written by our training load with torch >= 2.6's
``weights_only`` default), writes its config dump and logs into a new
``WORK_DIR/test_<timestamp>/`` (never over a training's files in
``WORK_DIR``) and ends a data-parallel run cleanly.
"""
from types import SimpleNamespace
from typing import List

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from mmengine.config import Config
from mmengine.runner import Runner

from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from fgvc_aam_tools.tool_args import check_test_args, new_test_folder
from projects.fgvc_aam_hardening.runtime_fixes import finish_data_parallel_run
from projects.fgvc_aam_hardening.runtime_setup import (load_mmpretrain_tool,
                                                       prepare_runtime)


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    # a private copy of the module: rebinding its globals changes nothing
    # else; its main() looks them up when it runs
    upstream = load_mmpretrain_tool('test')
    merge_args, registry = upstream.merge_args, upstream.RUNNERS
    parse_args = upstream.parse_args
    built: List[Runner] = []

    def merge_and_prepare(cfg: Config, args) -> Config:
        cfg = prepare_runtime(merge_args(cfg, args), training=False)
        cfg.work_dir = new_test_folder(cfg.work_dir,
                                       cfg.get('launcher', 'none'))
        return cfg

    def keep(runner: Runner) -> Runner:
        built.append(runner)
        return runner

    upstream.parse_args = lambda: check_test_args(parse_args())
    upstream.merge_args = merge_and_prepare
    upstream.Runner = SimpleNamespace(
        from_cfg=lambda cfg: keep(Runner.from_cfg(cfg)))
    upstream.RUNNERS = SimpleNamespace(
        build=lambda cfg: keep(registry.build(cfg)))
    upstream.main()
    finish_data_parallel_run(built[-1])


if __name__ == '__main__':
    main()

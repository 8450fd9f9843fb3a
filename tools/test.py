"""Test a checkpoint: MMPretrain's ``tools/test.py``, run as is.

Its ``main`` (flags, ``--out``/``--out-item``, runner, ``runner.test()``)
runs unchanged; ours adds the fixes of ``tools/train.py`` after its
``merge_args`` (in particular checkpoints written by our training load with
torch >= 2.6's ``weights_only`` default) and ends a data-parallel run
cleanly.
"""
from types import SimpleNamespace
from typing import List

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from mmengine.config import Config
from mmengine.runner import Runner

from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from fgvc_aam_tools.runtime_fixes import finish_data_parallel_run
from fgvc_aam_tools.runtime_setup import load_mmpretrain_tool, prepare_runtime


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    # a private copy of the module: rebinding its globals changes nothing
    # else; its main() looks them up when it runs
    upstream = load_mmpretrain_tool('test')
    merge_args, registry = upstream.merge_args, upstream.RUNNERS
    built: List[Runner] = []

    def merge_and_prepare(cfg: Config, args) -> Config:
        return prepare_runtime(merge_args(cfg, args), training=False)

    def keep(runner: Runner) -> Runner:
        built.append(runner)
        return runner

    upstream.merge_args = merge_and_prepare
    upstream.Runner = SimpleNamespace(
        from_cfg=lambda cfg: keep(Runner.from_cfg(cfg)))
    upstream.RUNNERS = SimpleNamespace(
        build=lambda cfg: keep(registry.build(cfg)))
    upstream.main()
    finish_data_parallel_run(built[-1])


if __name__ == '__main__':
    main()

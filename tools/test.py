"""Test a checkpoint: MMPretrain's ``tools/test.py`` with the same flags.

Its flags and config merging are MMPretrain's own (``parse_args`` and
``merge_args`` of the copy shipped in the package, as ``tools/train.py``
uses them); the rest of its ``main`` is written out here: the runner,
``--out`` / ``--out-item`` (predictions dumped by ``DumpResults``, or the
metrics by ``mmengine.dump``) and ``runner.test()``. On top, the flags are
checked before any work (:mod:`fgvc_aam_tools.tool_args`: an ``--out``
that exists, lies in a missing folder or has an extension MMPretrain
cannot write is refused), the fixes of ``tools/train.py`` are applied
after ``merge_args`` (in particular checkpoints written by our training
load with torch >= 2.6's ``weights_only`` default), the config dump and
logs go into a new ``WORK_DIR/test_<timestamp>/`` (never over a training's
files in ``WORK_DIR``) and a data-parallel run ends cleanly.
"""
import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import mmengine
from mmengine.config import Config
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from fgvc_aam_tools.caching_malloc import enable_caching_malloc
from fgvc_aam_tools.tool_args import check_test_args, new_test_folder
from projects.fgvc_aam_hardening.runtime_fixes import finish_data_parallel_run
from projects.fgvc_aam_hardening.runtime_setup import (load_mmpretrain_tool,
                                                       prepare_runtime)


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    upstream = load_mmpretrain_tool('test')
    args = check_test_args(upstream.parse_args())
    cfg = upstream.merge_args(Config.fromfile(args.config), args)
    prepare_runtime(cfg, training=False)
    cfg.work_dir = new_test_folder(cfg.work_dir, cfg.get('launcher', 'none'))
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
    finish_data_parallel_run(runner)


if __name__ == '__main__':
    main()

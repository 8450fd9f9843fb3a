"""Test a checkpoint: MMPretrain's ``tools/test.py`` with the same flags.

Adds the same fixes as ``tools/train.py``; in particular checkpoints written
by our training load with torch >= 2.6's ``weights_only`` default.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmengine  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.evaluator import DumpResults  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from projects.fgvc_aam.engine import (  # noqa: E402
    finish_data_parallel_run, load_mmpretrain_tool, prepare_runtime)
from projects.fgvc_aam.engine.caching_malloc import \
    enable_caching_malloc  # noqa: E402


def main() -> None:
    enable_caching_malloc()  # FGVC_AAM_CACHING_MALLOC=0 opts out
    upstream = load_mmpretrain_tool('test')
    args = upstream.parse_args()
    if args.out is None and args.out_item is not None:
        raise ValueError('Please use `--out` argument to specify the '
                         'path of the output file before using `--out-item`.')
    cfg = upstream.merge_args(Config.fromfile(args.config), args)
    prepare_runtime(cfg, training=False)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if args.out and args.out_item in ['pred', None]:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
    finish_data_parallel_run(runner)


if __name__ == '__main__':
    main()

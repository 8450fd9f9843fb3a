"""Evaluate a finished run on its validation and test splits.

Used by the finetune regime of ``compare_methods.py`` after training: the
checkpoint is evaluated once on the val loader (the split carved from the
training images) and once on the test loader, with the config's own
``test_branch`` and, for a ``TwoBranchClassifier``, with each of
``--branches`` (the ``test_branch`` sweep needs no retraining). Writes::

    {"own": {"val": {...}, "test": {...}},
     "branches": {"raw": {"val": {...}, "test": {...}}, ...}}

with the metrics ``top1``, ``top5``, ``class_mean``, ``corloc``.

    python -m fgvc_aam_tools.compare.evaluate CONFIG CKPT --out X.json
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Optional, Sequence


def evaluate(config: str, checkpoint: str,
             branches: Sequence[str] = ()) -> Dict:
    from mmengine.config import Config
    from mmengine.runner import Runner, TestLoop

    from projects.fgvc_aam_hardening.runtime_setup import prepare_runtime
    from .runs import metrics_of

    cfg = Config.fromfile(config)
    cfg.work_dir = osp.join(osp.dirname(osp.abspath(checkpoint)), 'eval')
    cfg.load_from = checkpoint
    cfg.resume = False
    prepare_runtime(cfg, training=False)
    runner = Runner.from_cfg(cfg)
    model = getattr(runner.model, 'module', runner.model)
    two_branch = hasattr(model, 'test_branch')
    own = model.test_branch if two_branch else None
    out: Dict = dict(own=dict(branch=own))
    # runner.test() loads the checkpoint; the other passes reuse the model.
    out['own']['test'] = metrics_of(runner.test())
    out['own']['val'] = metrics_of(TestLoop(
        runner, cfg.val_dataloader, cfg.test_evaluator).run())
    if two_branch and branches:
        out['branches'] = {}
        for b in branches:
            if b == own:
                out['branches'][b] = dict(val=out['own']['val'],
                                          test=out['own']['test'])
                continue
            model.test_branch = b
            out['branches'][b] = {
                split: metrics_of(TestLoop(
                    runner, cfg[f'{split}_dataloader'],
                    cfg.test_evaluator).run())
                for split in ('val', 'test')
            }
        model.test_branch = own
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True)
    p.add_argument('--branches', nargs='*', default=[],
                   choices=['raw', 'object', 'sum'])
    args = p.parse_args(argv)
    res = evaluate(args.config, args.checkpoint, args.branches)
    from .results import write_result
    write_result(args.out, res)  # atomic, never through a link
    print(json.dumps(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())

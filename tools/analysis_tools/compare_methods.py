"""Train and evaluate several configs on the same data with the same budget.

Two regimes (``--regime``), each reproducing one table with one command:

- ``finetune`` (default; the thesis's Tables 7 and 9 analog): the nine
  ``*_resnet18-w16-synpre_1xb16-20e_synthetic-fgvc.py`` siblings, whose
  16-channel ResNet-18 backbone is pretrained on the synthetic pretraining
  set (48 other classes of the same domain; made once and cached by
  ``tools/analysis_tools/pretrain_synthetic.py``, which this tool calls) and
  fine-tuned with the thesis's recipe scaled (head lr = 10 x backbone lr,
  backbone decay at 60%, head at 50% / 75%, margin steps at 30% / 60%).
  Knobs are selected on a validation split carved from the training images
  (20% of every class, deterministic); the test split is evaluated once
  per run, after the last epoch, and is what the table reports::

      python tools/analysis_tools/compare_methods.py --jobs 2
      python tools/analysis_tools/compare_methods.py --jobs 2 --plan overflow
      python tools/analysis_tools/compare_methods.py --jobs 2 --plan scale
      python tools/analysis_tools/compare_methods.py --plan test_branch

- ``scratch`` (the Table 8 analog): the nine from-scratch
  ``*_resnet18-w16_1xb16-30e_synthetic-fgvc.py`` siblings, 20 epochs at
  96 px, validation = the test split after the last epoch (the original
  protocol of this tool; its effective configs are unchanged)::

      python tools/analysis_tools/compare_methods.py --regime scratch --jobs 2

Every (config, seed) run is a subprocess of ``tools/train.py`` on an
effective config written next to the run (``--dry-run`` writes them all and
prints the commands). Runs are resumable (a finished run with an unchanged
effective config is read back; an interrupted one continues with
``--resume``); progress: one line per epoch and per run, with an ETA. The
table (markdown + CSV) and the plot (PNG) give mean ± sample std over the
seeds of top-1 / top-5 / per-class mean accuracy, CorLoc (two-branch
models), training images/s, peak memory, parameters, FLOPs, and the
difference in top-1 to the first row with a t-test p-value (paired by seed
where both rows have the same seeds, else Welch's). A sweep
plan also prints (and writes to ``*_selection.json``) the value that the
pre-registered rule selects on the validation split.

Real data sets (GPU)::

    python tools/analysis_tools/compare_methods.py \
        configs/aam/aam-step_resnet50_2xb8-100e_cub.py \
        configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py \
        --data-root data/CUB_200_2011 --gpus 2 --seeds 0 \
        --work-dir work_dirs/compare_cub

The implementation is the package :mod:`fgvc_aam_tools.compare`.
"""
import sys

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
from fgvc_aam_tools.compare.cli import main

if __name__ == '__main__':
    sys.exit(main(description=__doc__.split('\n')[0]))

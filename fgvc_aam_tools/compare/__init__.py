"""The method comparison behind ``tools/analysis_tools/compare_methods.py``.

Modules, by role:

- :mod:`.budget`: the shared budget as pure functions from a config to a
  config (epochs, input size, classes, evaluators, carved validation split,
  pretrained checkpoint);
- :mod:`.plans`: the regimes (``finetune``, ``scratch``), their default
  configs and budgets, the named sweep plans, and the list of runs;
- :mod:`.runs`: running one (config, seed) as ``tools/train.py`` (and the
  evaluation of :mod:`.evaluate`) in a subprocess, resumably, with progress;
- :mod:`.report`: mean / std / Welch's t-test, the selection rule, the table
  (markdown + CSV) and the plot;
- :mod:`.pretrain`: the cached pretrained backbone of the finetune regime;
- :mod:`.cli`: the command line.
"""

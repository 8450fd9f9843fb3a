"""fgvc_aam_hardening: running MMPretrain safely, for any method.

Nothing here is about fine-grained classification. Importing the package
registers its hooks in MMPretrain's registry; configs import it next to the
method package::

    custom_imports = dict(
        imports=['projects.fgvc_aam', 'projects.fgvc_aam_hardening'],
        allow_failed_imports=False)

- :mod:`.hooks`: atomic and plain checkpoints, the checkpoint fit check,
  the per-epoch seed, the data set consistency check and the non-finite
  loss stop (``configs/_base_/default_runtime.py`` names them in
  ``default_hooks``, so a method's ``custom_hooks`` cannot drop them).
- :mod:`.runtime_setup`: ``prepare_runtime``, the guards our tools apply
  before a run (one run per work dir, no fresh run over checkpoints,
  ``--resume`` from the newest intact checkpoint, config checks);
  :mod:`.resume`, :mod:`.work_dir_lock`, :mod:`.config_checks`,
  :mod:`.class_count`, :mod:`.offline_weights` are its parts.
- :mod:`.runtime_fixes`: the fixes for mmengine 0.10 / torch 2.14 (safe
  checkpoint loading, CPU data-parallel set-up, clean exit), switched on
  by the tools, never by importing.
"""
from . import hooks  # noqa: F401

__all__ = ['hooks']

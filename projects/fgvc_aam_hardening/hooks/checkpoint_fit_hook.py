"""Stop before a checkpoint that does not fit the model is loaded."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.compat.mmengine import runner_load_from
from projects.fgvc_aam.utils.checks import check_bool
from projects.fgvc_aam.engine.checkpoint_fit import check_checkpoint_fits


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Refuse ``load_from`` / ``--resume`` / ``tools/test.py`` checkpoints
    whose tensors differ in name or shape from the model's (mmengine would
    leave them randomly initialised with a warning).

    ``configs/_base_/default_runtime.py`` names it in ``default_hooks``
    (``checkpoint_fit``), so MMPretrain's own tools check too;
    ``tools/train.py`` and ``tools/test.py`` add it to a run without one
    (``prepare_runtime``). ``--cfg-options allow_partial_checkpoint=True``
    (our tools) or ``default_hooks.checkpoint_fit.allow_partial=True``
    turns the refusal into a warning.

    Args:
        allow_partial: load the matching tensors only, with a warning.
    """

    priority = 'VERY_LOW'  # after hooks that convert the loaded checkpoint

    def __init__(self, allow_partial: bool = False) -> None:
        self.allow_partial = check_bool('allow_partial', allow_partial,
                                        'CheckpointFitHook')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        check_checkpoint_fits(model, checkpoint,
                              runner_load_from(runner),
                              self.allow_partial)

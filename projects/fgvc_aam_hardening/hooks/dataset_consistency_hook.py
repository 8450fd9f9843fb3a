"""Stop before training when the config's class count disagrees with the
data set."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.datasets.validation import (dataset_class_count,
                                                   num_classes_mismatches,
                                                   raise_mismatches,
                                                   topk_mismatches)


@HOOKS.register_module()
class DatasetConsistencyHook(Hook):
    """Compare every ``num_classes`` of the model (data preprocessor, heads,
    losses) with ``len(dataset.metainfo['classes'])`` of the train, val and
    test data sets, and the ``topk`` of their ``Accuracy`` evaluators with
    it, once, before they are used.

    In a training run the train and val loops are checked in
    ``before_run``, before the weights are initialised (or downloaded) and
    before the first iteration; a top-5 accuracy on a 3-class set would
    otherwise fail only at the first validation.

    Raises one :class:`~projects.fgvc_aam.datasets.DataValidationError`
    naming every config key at odds (e.g. ``model.head.num_classes=200``),
    the data set's class count and the ``--cfg-options`` that set them
    all. Add ``custom_hooks =
    [dict(type='DatasetConsistencyHook')]`` to a config, or call
    :func:`~projects.fgvc_aam.datasets.check_num_classes` directly.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._checked = set()

    def _check(self, runner, loops: dict) -> None:
        """Check ``{'train' | 'val' | 'test': (dataloader, evaluator)}``
        together: one error names every mismatch."""
        loops = {k: v for k, v in loops.items() if k not in self._checked}
        if not loops:
            return
        found = dataset_class_count(
            [getattr(loader, 'dataset', None) for loader, _ in
             loops.values()])  # raises if they disagree
        if found is not None:
            data, n = found
            mismatches = num_classes_mismatches(runner.model, n)
            for which, (_, evaluator) in loops.items():
                mismatches += topk_mismatches(
                    getattr(evaluator, 'metrics', []), n,
                    f'{which}_evaluator')
            raise_mismatches(mismatches, data, n)
        self._checked.update(loops)

    def _runner_loop(self, runner, which: str) -> dict:
        return {which: (getattr(runner, f'{which}_dataloader'),
                        getattr(runner, f'{which}_evaluator', None))}

    def before_run(self, runner) -> None:
        # only the loops the run has built (mmengine builds the train and
        # val loops before `before_run` of a training run); a property
        # would build the others
        loops = {}
        for which in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{which}_loop', None)
            if isinstance(loop, BaseLoop):
                loops[which] = (loop.dataloader,
                                getattr(loop, 'evaluator', None))
        self._check(runner, loops)

    def before_train(self, runner) -> None:
        self._check(runner, self._runner_loop(runner, 'train'))

    def before_val(self, runner) -> None:
        self._check(runner, self._runner_loop(runner, 'val'))

    def before_test(self, runner) -> None:
        self._check(runner, self._runner_loop(runner, 'test'))

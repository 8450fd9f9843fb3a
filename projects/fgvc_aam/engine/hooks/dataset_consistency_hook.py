"""Stop before training when the config's class count disagrees with the
data set."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.datasets.validation import (check_num_classes,
                                                   check_topk,
                                                   dataset_class_count)


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

    Raises :class:`~projects.fgvc_aam.datasets.DataValidationError` naming
    the config key (e.g. ``model.head.num_classes=200``), the data set's
    class count and the ``--cfg-options`` to set. Add ``custom_hooks =
    [dict(type='DatasetConsistencyHook')]`` to a config, or call
    :func:`~projects.fgvc_aam.datasets.check_num_classes` directly.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._checked = set()

    def _check(self, runner, which: str, loop=None) -> None:
        if which in self._checked:
            return
        if loop is not None:
            loader, evaluator = loop.dataloader, getattr(loop, 'evaluator',
                                                         None)
        else:
            loader = getattr(runner, f'{which}_dataloader')
            evaluator = getattr(runner, f'{which}_evaluator', None)
        datasets = [getattr(loader, 'dataset', None)]
        check_num_classes(runner.model, datasets)
        found = dataset_class_count(datasets)
        if found is not None and evaluator is not None:
            check_topk(getattr(evaluator, 'metrics', []), found[1],
                       f'{which}_evaluator', found[0])
        self._checked.add(which)

    def before_run(self, runner) -> None:
        # only the loops the run has built (mmengine builds the train and
        # val loops before `before_run` of a training run); a property
        # would build the others
        for which in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{which}_loop', None)
            if isinstance(loop, BaseLoop):
                self._check(runner, which, loop)

    def before_train(self, runner) -> None:
        self._check(runner, 'train')

    def before_val(self, runner) -> None:
        self._check(runner, 'val')

    def before_test(self, runner) -> None:
        self._check(runner, 'test')

"""Stop before training when the config's class count disagrees with the
data set."""
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from projects.fgvc_aam.datasets.validation import check_num_classes


@HOOKS.register_module()
class DatasetConsistencyHook(Hook):
    """Compare every ``num_classes`` of the model (data preprocessor, heads,
    losses) with ``len(dataset.metainfo['classes'])`` of the train, val and
    test data sets, once, before they are used.

    Raises :class:`~projects.fgvc_aam.datasets.DataValidationError` naming
    the config field (e.g. ``model.head.num_classes=200``) and the data
    set's class count. Add ``custom_hooks = [dict(type=
    'DatasetConsistencyHook')]`` to a config, or call
    :func:`~projects.fgvc_aam.datasets.check_num_classes` directly.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._checked = set()

    def _check(self, runner, which: str) -> None:
        if which in self._checked:
            return
        loader = getattr(runner, f'{which}_dataloader')
        check_num_classes(runner.model, [getattr(loader, 'dataset', None)])
        self._checked.add(which)

    def before_train(self, runner) -> None:
        self._check(runner, 'train')

    def before_val(self, runner) -> None:
        self._check(runner, 'val')

    def before_test(self, runner) -> None:
        self._check(runner, 'test')

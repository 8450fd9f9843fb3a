"""Hook that drives the margin of the AAM loss over training (eqs. 51-54)."""
import math
import operator
from typing import List, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmpretrain.registry import HOOKS

from ...utils.checks import check_bool, check_str
from .margin_schedules import margin_at, validate_margin_schedule


@HOOKS.register_module()
class MarginScheduleHook(Hook):
    """Set the angular margin ``f(e)`` of margin heads during training.

    Implements the margin functions of the Adaptive Angular Margin loss
    (thesis eqs. 52-54; ``constant`` is plain ArcFace, eq. 46). The epoch
    convention is documented in :mod:`.margin_schedules`: ``e`` is the
    1-based epoch being trained, so milestones ``k1``/``k2`` behave like
    ``MultiStepLR`` milestones.

    Before every training epoch the margin ``f(runner.epoch + 1)`` is given
    to every head (any module with a ``set_margins`` method, e.g. our
    ``AngularMarginHead`` or MMPretrain's ``ArcFaceClsHead``; it receives a
    python float). With ``by_iter=True`` it is set before every iteration
    from the fractional epoch ``(runner.iter + 1) / len(train_dataloader)``.
    Under an ``IterBasedTrainLoop`` (where ``runner.epoch`` stays 0) the
    epoch is ``runner.iter // len(train_dataloader) + 1``, checked every
    iteration. Iteration-level updates only touch the heads when the value
    changes; none of this syncs with the device.
    Model wrappers (DDP, FSDP, ...) are unwrapped, unlike MMPretrain's
    ``SetAdaptiveMarginsHook`` which reads ``runner.model.head``.

    Resume: the value is computed from ``runner.epoch`` / ``runner.iter``
    (restored from the checkpoint) in ``before_train``, which runs after the
    checkpoint is loaded, and again before each epoch / iteration, so a
    resumed run continues with the right margin at epoch and at iteration
    level. (``AngularMarginHead``, ``CosFaceHead`` and any other
    ``CosineMarginHead`` also keep the margin in a persistent buffer, so a
    checkpoint evaluated later carries it too.)

    Logging: the margin is written to the message hub as ``train/margin``
    each time it is set; ``LoggerHook`` prints it in the train log line
    (``margin: 0.2500``) and forwards it to every visualisation backend
    (``scalars.json`` of ``LocalVisBackend``, TensorBoard, ...). One INFO
    line per epoch also reports it.

    Args:
        schedule (str): ``'constant'``, ``'step'``, ``'linear'`` or
            ``'exponential'``. Defaults to ``'step'``.
        m1 (float): First margin (radians). Defaults to 0.25 (eq. 56).
        m2 (float): Final margin (radians). Defaults to 0.5 (eq. 56).
        k1 (float): Epoch after which the margin starts. Defaults to 30.
        k2 (float): Epoch after which ``m2`` is used. Defaults to 60.
        margin (float, optional): The constant margin; only (and then
            necessarily) with ``schedule='constant'``.
        by_iter (bool): Also update before every iteration with fractional
            epochs (smooth linear / exponential ramps). Defaults to False.
        heads (str | Sequence[str], optional): Dotted attribute paths of the
            heads inside the (unwrapped) model, e.g. ``'head'``. ``None``
            (default) uses every sub-module that has ``set_margins``.
        allow_unreached_milestones (bool): A milestone ``k1`` or ``k2`` at
            or beyond the last epoch (``max_epochs``; iteration-based:
            ``ceil(max_iters / iters_per_epoch)``) means the margin stays 0
            (``k1``) or ``m2`` is never used (``k2``): refused in
            ``before_train`` unless this is True (then a warning).
            Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 schedule: str = 'step',
                 m1: float = 0.25,
                 m2: float = 0.5,
                 k1: float = 30,
                 k2: float = 60,
                 margin: Optional[float] = None,
                 by_iter: bool = False,
                 heads: Optional[Union[str, Sequence[str]]] = None,
                 allow_unreached_milestones: bool = False) -> None:
        validate_margin_schedule(schedule, m1, m2, k1, k2, margin)
        check_bool('by_iter', by_iter, 'MarginScheduleHook')
        check_bool('allow_unreached_milestones', allow_unreached_milestones,
                   'MarginScheduleHook')
        self.allow_unreached_milestones = allow_unreached_milestones
        if isinstance(heads, str):
            heads = [heads]
        if heads is not None:
            if not isinstance(heads, (list, tuple)):
                raise TypeError('MarginScheduleHook: `heads` must be None, '
                                f'a module path or a list of them, got '
                                f'{heads!r}')
            if not heads:
                raise ValueError('MarginScheduleHook: `heads` must not be '
                                 f'empty, got {heads!r}')
            for head in heads:
                check_str('heads', head, 'MarginScheduleHook')
        self.schedule = schedule
        self.m1, self.m2, self.k1, self.k2 = m1, m2, k1, k2
        self.margin = margin
        self.by_iter = by_iter
        self.heads = None if heads is None else list(heads)
        self._targets: List = []
        self.current_margin: Optional[float] = None

    # ------------------------------------------------------------ schedule
    def margin_at(self, epoch: float) -> float:
        """Margin at 1-based (possibly fractional) epoch ``epoch``."""
        return margin_at(epoch, self.schedule, self.m1, self.m2, self.k1,
                         self.k2, self.margin)

    def progress(self, runner) -> float:
        """The ``e`` the next training step belongs to (see module doc)."""
        iters_per_epoch = max(len(runner.train_dataloader), 1)
        if self.by_iter:
            return (runner.iter + 1) / iters_per_epoch
        if _is_iter_based(runner):  # runner.epoch stays 0 there
            return float(runner.iter // iters_per_epoch + 1)
        return float(runner.epoch + 1)

    # ------------------------------------------------------------- targets
    def _find_heads(self, runner) -> List:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if self.heads is None:
            found, seen = [], set()
            for name, module in model.named_modules():
                if callable(getattr(module, 'set_margins', None)) and id(
                        module) not in seen:
                    seen.add(id(module))
                    found.append((name, module))
            if not found:
                raise RuntimeError(
                    'MarginScheduleHook: the model '
                    f'({type(model).__name__}) has no module with a '
                    '`set_margins` method (e.g. AngularMarginHead or '
                    'ArcFaceClsHead); remove the hook or use such a head.')
            return found
        found = []
        for path in self.heads:
            try:
                module = operator.attrgetter(path)(model)
            except AttributeError:
                raise RuntimeError(
                    f'MarginScheduleHook: `heads` entry {path!r} is not an '
                    f'attribute of {type(model).__name__}') from None
            if not callable(getattr(module, 'set_margins', None)):
                raise RuntimeError(
                    f'MarginScheduleHook: `heads` entry {path!r} '
                    f'({type(module).__name__}) has no `set_margins` method')
            found.append((path, module))
        return found

    def _apply(self,
               runner,
               log: bool = False,
               force: bool = True) -> float:
        if not self._targets:
            self._targets = self._find_heads(runner)
        value = float(self.margin_at(self.progress(runner)))
        if not force and value == self.current_margin:
            return value
        for _, head in self._targets:
            head.set_margins(value)
        self.current_margin = value
        runner.message_hub.update_scalar('train/margin', value)
        if log:
            names = ', '.join(name or '<model>' for name, _ in self._targets)
            runner.logger.info(
                f'MarginScheduleHook: epoch {runner.epoch + 1} '
                f'({self.schedule}) margin={value:.4f} on {names}')
        return value

    # --------------------------------------------------------------- hooks
    def before_run(self, runner) -> None:
        """Resolve (and check) the heads before anything is trained."""
        self._targets = self._find_heads(runner)

    def before_train(self, runner) -> None:
        """Runs after ``--resume`` loaded the checkpoint."""
        self.check_milestones(runner)
        self._apply(runner)

    def check_milestones(self, runner) -> None:
        """Refuse (or warn about, with ``allow_unreached_milestones``) a
        milestone the run never passes."""
        if self.schedule == 'constant':
            return
        if _is_iter_based(runner):
            last = math.ceil(runner.max_iters /
                             max(len(runner.train_dataloader), 1))
        else:
            last = runner.max_epochs
        late = [f'{name}={value}' for name, value in (('k1', self.k1),
                                                      ('k2', self.k2))
                if value >= last]
        if not late:
            return
        effect = ('the margin stays 0 for the whole run' if self.k1 >= last
                  else f'm2={self.m2} is never used')
        msg = (f'MarginScheduleHook: {" and ".join(late)} at or beyond the '
               f'last epoch ({last}): {effect}. Lower the milestone(s) below '
               'max_epochs, or set allow_unreached_milestones=True if this '
               'is deliberate.')
        if not self.allow_unreached_milestones:
            raise ValueError(msg)
        runner.logger.warning(msg)

    def before_train_epoch(self, runner) -> None:
        self._apply(runner, log=True)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self.by_iter or _is_iter_based(runner):
            self._apply(runner, force=False)


def _is_iter_based(runner) -> bool:
    return isinstance(runner.train_loop, IterBasedTrainLoop)

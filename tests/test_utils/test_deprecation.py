"""``renamed_arguments``: an old keyword warns and is passed on under its new
name; both raise; a wrong declaration fails when the class is defined."""
import inspect
import logging
import warnings

import pytest
from mmengine.logging import MMLogger

from projects.fgvc_aam.utils.deprecation import renamed_arguments


class Base:

    @renamed_arguments(alpha='margin', gamma='scale')
    def __init__(self, size, margin=0.1, scale=30.0):
        self.size, self.margin, self.scale = size, margin, scale


class Child(Base):
    """Inherits the decorated ``__init__``: messages name the child."""


def test_new_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        obj = Base(3, margin=0.2, scale=4.0)
    assert (obj.size, obj.margin, obj.scale) == (3, 0.2, 4.0)


def test_old_name_warns_names_class_old_and_new_and_maps():
    with pytest.warns(DeprecationWarning,
                      match=r'^Child: the argument `alpha` is deprecated.*'
                      r'use `margin` instead$'):
        obj = Child(3, alpha=0.25)
    assert (obj.size, obj.margin, obj.scale) == (3, 0.25, 30.0)
    with pytest.warns(DeprecationWarning) as record:
        obj = Base(size=2, alpha=0.5, gamma=8.0)
    assert [str(w.message).split(':')[0] for w in record] == ['Base', 'Base']
    assert (obj.size, obj.margin, obj.scale) == (2, 0.5, 8.0)
    assert record[0].filename == __file__  # points at the caller


def test_old_name_is_also_logged_where_python_hides_the_warning():
    """Python shows DeprecationWarning only in ``__main__``: a run started
    by ``tools/train.py`` would never see it, so the message is also logged
    (MMEngine's current logger, WARNING)."""
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # as outside __main__
            Base(3, alpha=0.25)
    finally:
        logger.removeHandler(handler)
    assert [r.levelno for r in records] == [logging.WARNING]
    assert records[0].getMessage().startswith(
        'Base: the argument `alpha` is deprecated')


@pytest.mark.parametrize('args, kwargs', [
    ((3, ), dict(alpha=0.2, margin=0.2)),  # both by keyword
    ((3, 0.2), dict(alpha=0.2)),  # the new one by position
])
def test_old_and_new_together_raise(args, kwargs):
    with pytest.raises(TypeError,
                       match='Child: got both `alpha` .*and `margin`; '
                       'pass only `margin`'):
        Child(*args, **kwargs)


def test_signature_is_the_new_one():
    params = inspect.signature(Base).parameters
    assert list(params) == ['size', 'margin', 'scale']


def test_wrong_declarations_fail_at_definition():
    with pytest.raises(TypeError, match='has no argument `margin`'):

        class NoNew:

            @renamed_arguments(alpha='margin')
            def __init__(self, scale=1.0):
                pass

    with pytest.raises(TypeError, match='still takes `alpha`'):

        class KeepsOld:

            @renamed_arguments(alpha='margin')
            def __init__(self, alpha=1.0, margin=1.0):
                pass

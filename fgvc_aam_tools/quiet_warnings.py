"""Upstream warnings that say nothing to our users, filtered in our tools.

Every tool printed three of them before its own output:

- mmcv-lite has no compiled ops, and ``mmcv.cnn.bricks.transformer`` warns
  that ``MultiScaleDeformableAttention`` cannot be imported (no model of
  ours uses it);
- ``pkg_resources is deprecated``, twice: mmengine imports
  ``pkg_resources`` to find ``mmpretrain::`` configs (we pin
  ``setuptools<81`` for it, see the README's installation notes).

:func:`quiet_upstream_warnings` ignores exactly these messages (matched by
their text, from the start, not by category: any other warning of the
same kind still shows). Each tool imports this module before anything
that imports mmcv or MMPretrain; importing it installs the filters.
"""
import re
import warnings

UPSTREAM_WARNINGS = (
    # mmcv/cnn/bricks/transformer.py (mmcv-lite 2.1.0)
    'Fail to import ``MultiScaleDeformableAttention`` from '
    '``mmcv.ops.multi_scale_deform_attn``, You should install ``mmcv`` '
    'rather than ``mmcv-lite`` if you need this module.',
    # pkg_resources/__init__.py (setuptools 80), on mmengine's import
    'pkg_resources is deprecated as an API. See '
    'https://setuptools.pypa.io/en/latest/pkg_resources.html.',
)


def quiet_upstream_warnings() -> None:
    """Ignore the warnings of :data:`UPSTREAM_WARNINGS`; idempotent."""
    for message in UPSTREAM_WARNINGS:
        warnings.filterwarnings('ignore', message=re.escape(message),
                                category=UserWarning)


quiet_upstream_warnings()

"""Install requirements are computed here; all metadata is in setup.cfg.

mmcv is required, but the lite build (no compiled ops) is enough: if neither
``mmcv`` nor ``mmcv-lite`` is installed we ask for ``mmcv-lite`` so that a
full ``mmcv`` already in the environment is never replaced.
"""
from importlib import metadata

from setuptools import setup


def read_requirements(path: str) -> list:
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


def mmcv_requirement() -> list:
    for dist in ('mmcv', 'mmcv-lite'):
        try:
            metadata.version(dist)
            return []
        except metadata.PackageNotFoundError:
            pass
    return read_requirements('requirements/mminstall.txt')


setup(install_requires=read_requirements('requirements/runtime.txt') +
      mmcv_requirement())

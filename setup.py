"""Install requirements are computed here; all metadata is in setup.cfg.

mmcv is required, but the lite build (no compiled ops) is enough: if neither
``mmcv`` nor ``mmcv-lite`` is installed we ask for ``mmcv-lite`` so that a
full ``mmcv`` already in the environment is never replaced.

A built (non-editable) package carries ``configs/``, ``model-index.yml``
and ``tools/`` under ``projects/fgvc_aam/.mim/``, as MMPretrain ships its
own under ``mmpretrain/.mim``: ``get_model`` / ``list_models`` find our
names there (``projects/fgvc_aam/apis/model_index.py``). An editable
install reads them from the checkout.
"""
import os
import os.path as osp
import shutil
from importlib import metadata

from setuptools import setup
from setuptools.command.build_py import build_py

MIM_FILES = ('configs', 'model-index.yml', 'tools')
MIM_DIR = osp.join('projects', 'fgvc_aam', '.mim')


class BuildPyWithMim(build_py):
    """``build_py`` plus the copies of :data:`MIM_FILES` in the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return  # the checkout has them
        target = osp.join(self.build_lib, MIM_DIR)
        for name in MIM_FILES:
            dst = osp.join(target, name)
            if osp.isdir(name):
                shutil.copytree(name, dst, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(
                                    '__pycache__', '*.pyc'))
            else:
                os.makedirs(target, exist_ok=True)
                shutil.copyfile(name, dst)


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
      mmcv_requirement(),
      cmdclass={'build_py': BuildPyWithMim})

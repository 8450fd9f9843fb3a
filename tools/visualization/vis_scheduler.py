"""MMPretrain's ``vis_scheduler.py`` on our configs (the same flags).

Upstream's tool simulates training with a one-convolution ``SimpleModel``.
Our configs need more of the model than that: ``GroupMultiStepLR`` looks up
the optimizer's ``head`` parameter group (named by
``NamedGroupOptimWrapperConstructor`` from parameter names) and
``MarginScheduleHook`` a head with ``set_margins``. This runs upstream's
tool unchanged except for its model, which gets a ``backbone`` and a
``head`` (with a no-op ``set_margins``). The plotted learning rate is that
of the first parameter group (the backbone's); for every group and the
margin use ``tools/analysis_tools/plot_margin_schedule.py``.

    python tools/visualization/vis_scheduler.py CONFIG [--dataset-size N]
        [--ngpus N] [--save-path PNG] [--not-show] [-p lr|momentum|wd]
"""

import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import torch.nn as nn
from mmengine.model import BaseModel

from fgvc_aam_tools.runtime_setup import load_mmpretrain_tool

upstream = load_mmpretrain_tool('visualization/vis_scheduler')


class _MarginHead(nn.Module):
    """A head for ``MarginScheduleHook``: keeps the last margin set."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.margins = None

    def set_margins(self, margins) -> None:
        self.margins = margins


class SimpleModel(BaseModel):
    """Upstream's do-nothing model, with a ``backbone`` and a ``head``."""

    def __init__(self) -> None:
        super().__init__()
        self.data_preprocessor = nn.Identity()
        self.backbone = nn.Conv2d(1, 1, 1)
        self.head = _MarginHead()

    def forward(self, inputs, data_samples=None, mode='tensor'):
        pass

    def train_step(self, data, optim_wrapper):
        pass


upstream.SimpleModel = SimpleModel

if __name__ == '__main__':
    import projects.fgvc_aam  # noqa: F401  (registers everything)
    upstream.main()

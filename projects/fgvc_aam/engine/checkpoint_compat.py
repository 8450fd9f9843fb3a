"""Let torch >= 2.6 load the checkpoints mmengine 0.10.x writes.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` without
``weights_only``. Since torch 2.6 that defaults to ``weights_only=True``,
which refuses every global that is not allow-listed, so ``--resume`` and
``tools/test.py`` fail on the checkpoints our own training wrote. Instead of
turning the safe loader off, we allow-list exactly the globals an mmengine
checkpoint contains besides tensors: the message hub's ``HistoryBuffer``
and the numpy pieces its pickled arrays and scalars are made of.
"""
from typing import Any, List

import numpy as np
import torch


def mmengine_checkpoint_globals() -> List[Any]:
    """The globals (beyond torch's defaults) an mmengine checkpoint pickles."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    return [
        HistoryBuffer,
        _reconstruct,
        scalar,
        np.ndarray,
        np.dtype,
        type(np.dtype(np.float64)),  # numpy.dtypes.Float64DType
        type(np.dtype(np.float32)),
        type(np.dtype(np.int64)),  # numpy.dtypes.Int64DType
        type(np.dtype(np.int32)),
        type(np.dtype(np.bool_)),
        getattr,  # numpy's pickles reconstruct dtypes through getattr
    ]


def allow_mmengine_checkpoints() -> None:
    """Allow-list mmengine's checkpoint globals for ``weights_only`` loads.

    Idempotent; a no-op on torch versions without
    ``torch.serialization.add_safe_globals`` (< 2.4), which load with
    ``weights_only=False`` anyway.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(mmengine_checkpoint_globals())

"""Keep freed CPU tensor memory in the process (glibc), as CUDA's allocator
keeps GPU memory.

By default glibc serves every block above its (dynamic, at most 32 MiB)
mmap threshold with a fresh ``mmap`` and returns it with ``munmap`` on
``free``; the top of the heap is trimmed as well. A CPU training step of a
large model (ResNet-50 at 448 px) frees its activations after every step and
page-faults them in again on the next one: the kernel zeroes every page,
again and again. :func:`enable_caching_malloc` sets glibc's thresholds with
``mallopt`` so freed blocks are reused instead (the effect of
``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=17179869184
MALLOC_TOP_PAD_=1073741824``, without asking the user to set them). The cost:
the process keeps its peak heap until it exits, as PyTorch's CUDA allocator
keeps its peak GPU memory.

Opt out with ``FGVC_AAM_CACHING_MALLOC=0``. Malloc variables the user set
(``MALLOC_*_`` or ``GLIBC_TUNABLES=glibc.malloc...``) are left to win.
"""
import ctypes
import ctypes.util
import os
import platform
from typing import Optional

OPT_OUT_ENV = 'FGVC_AAM_CACHING_MALLOC'

# glibc's <malloc.h> parameter numbers
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

# mallopt takes an int: the largest mmap threshold it can express (blocks
# of 2 GiB and more still get their own mapping); -1 turns trimming off
# (documented in mallopt(3)); the top pad is the measured 1 GiB.
CACHING_SETTINGS = (
    (M_MMAP_THRESHOLD, 2**31 - 1),
    (M_TRIM_THRESHOLD, -1),
    (M_TOP_PAD, 1 << 30),
)

USER_MALLOC_ENV = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                   'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_', 'MALLOC_ARENA_MAX')


def caching_malloc_skip_reason() -> Optional[str]:
    """Why :func:`enable_caching_malloc` would do nothing, or None."""
    if os.environ.get(OPT_OUT_ENV, '1').strip().lower() in ('0', 'false',
                                                            'no', 'off'):
        return f'opted out ({OPT_OUT_ENV}=0)'
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return 'not glibc'
    user = [name for name in USER_MALLOC_ENV if name in os.environ]
    if 'glibc.malloc' in os.environ.get('GLIBC_TUNABLES', ''):
        user.append('GLIBC_TUNABLES')
    if user:
        return f'the user set {", ".join(user)}'
    return None


def enable_caching_malloc() -> bool:
    """Make glibc keep and reuse freed large blocks (see the module doc).

    Call it once at start-up, before the first training step. Returns True
    if the settings were applied, False if skipped (opt-out, user malloc
    variables, not glibc) or refused by ``mallopt``.
    """
    if caching_malloc_skip_reason() is not None:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all([mallopt(param, value) == 1
                for param, value in CACHING_SETTINGS])

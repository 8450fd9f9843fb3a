"""enable_caching_malloc: freed large blocks are reused, not faulted in again.

The oracle is the kernel's count of minor page faults (``ru_minflt``): a
64 MiB tensor allocated and freed repeatedly costs about 16k faults per
round (one per 4 KiB page) when glibc returns it with ``munmap``, and few
once it is kept. Each case runs in its own process (``mallopt`` is global).
"""
import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='glibc only')

ROUNDS = 16
PAGES_PER_ROUND = (64 << 20) // 4096

SCRIPT = f'''
import json, resource
import torch
# the module alone: fgvc_aam_tools imports neither MMPretrain nor our package
from fgvc_aam_tools.caching_malloc import enable_caching_malloc
applied = enable_caching_malloc()

def step():
    a = torch.empty(16 << 20).fill_(1.0)  # 64 MiB, freed on return
    return float((a * 2)[0])

step(); step(); step()  # the heap grows to its peak
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range({ROUNDS}):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps(dict(applied=applied, faults=faults)))
'''


def faults(**env) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith('MALLOC_') and k != 'FGVC_AAM_CACHING_MALLOC'}
    proc = subprocess.run([sys.executable, '-c', SCRIPT],
                          env=dict(clean, OMP_NUM_THREADS='1', **env),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    cached = faults()
    default = faults(FGVC_AAM_CACHING_MALLOC='0')
    assert cached['applied'] is True
    assert default['applied'] is False
    # glibc default: every round maps the two 64 MiB blocks afresh
    assert default['faults'] >= ROUNDS * PAGES_PER_ROUND
    # caching: the pages stay mapped (a few blocks are new when small
    # allocations fragment the heap: 2-3 of 32 here)
    assert cached['faults'] <= default['faults'] // 4


def test_user_malloc_settings_win():
    """A user's own MALLOC_*_ variable: we change nothing (glibc's default
    is then what the user asked for, here a huge trim threshold only, which
    does not stop the mmap/munmap of large blocks)."""
    user = faults(MALLOC_TRIM_THRESHOLD_='17179869184')
    assert user['applied'] is False
    assert user['faults'] >= ROUNDS * PAGES_PER_ROUND

"""trim_heap gives memory freed inside the process back to the OS (glibc), measured in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from omni_emotion.heap import _malloc_trim, limit_arenas

_SCRIPT = textwrap.dedent(
    """
    import re
    from pathlib import Path
    from omni_emotion.heap import trim_heap

    def rss_mb():
        return int(re.search(r"VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) / 1024

    blocks = [bytearray(100_000) for _ in range(3000)]  # 300 MB in blocks under glibc's mmap threshold
    keep = blocks[::20]  # every 20th stays: the heap's top cannot simply shrink
    del blocks
    before = rss_mb()
    trim_heap()
    print(before - rss_mb())
    """
)


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library has no malloc_trim (not glibc)")
def test_freed_heap_memory_goes_back_to_the_os():
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    returned_mb = float(out.stdout.strip().splitlines()[-1])
    assert returned_mb > 150, f"only {returned_mb:.0f} MB of the 285 MB freed went back"


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library is not glibc")
def test_limit_arenas_is_accepted_by_glibc_and_refuses_zero():
    code = "from omni_emotion.heap import limit_arenas; print(limit_arenas(2))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"
    with pytest.raises(ValueError, match=">= 1"):
        limit_arenas(0)

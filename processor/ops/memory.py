"""Keep a long-running process's heap from growing with the largest message it has seen.

glibc serves a large allocation from its own mapping and returns it on free,
but after freeing one it raises that threshold (up to 32 MB) and serves later
large buffers from the heap, where freed space is kept: after a few 3 MB
reports an intake process held some 40 MB more than it used, and each extra
thread's arena kept its own. A fixed threshold and two arenas keep the
resident size flat over a long backlog (bench/ingest.py: the main process at
144 MB instead of 185 MB after 800 messages, at the same speed).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 256 * 1024
ARENAS = 2


def steady_heap() -> bool:
    """Fix glibc's mmap threshold and arena count for this process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("no mallopt in %s: the heap keeps the C library's defaults", name)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))

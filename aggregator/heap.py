"""Freed memory handed back to the operating system after a big stage.

CPython's ``free`` goes to glibc's ``malloc``, which keeps freed blocks for later allocations:
the lists, dicts and arrays a million-record stage drops stay resident, in the process's heap
and in arenas, until the process ends. ``malloc_trim(0)`` returns every free page of them
(``madvise``, also within the heap, not only at its top), so that the next stage's peak, or
another process's, does not sit on top of memory nobody uses. It costs milliseconds to tens of
milliseconds on a heap of gigabytes (logged at DEBUG with what it gave back). Elsewhere than
glibc (macOS, musl) it does nothing.

Example::

    del blocking_index
    give_back("the matching")
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time
from typing import Any

log = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _trim_function() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _trim_function()


def resident_mb() -> int:
    """This process's resident memory now, in MB (0 where ``/proc`` is not)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE // 2**20
    except (OSError, IndexError, ValueError):
        return 0


def give_back(after: str = "") -> None:
    """Return this process's freed heap pages to the operating system (glibc only)."""
    if _TRIM is None:
        return
    if not log.isEnabledFor(logging.DEBUG):
        _TRIM(0)
        return
    before, started = resident_mb(), time.perf_counter()
    _TRIM(0)
    log.debug(
        "memory given back%s: %d MB -> %d MB resident in %.0f ms (pid %d)",
        f" after {after}" if after else "",
        before,
        resident_mb(),
        (time.perf_counter() - started) * 1000,
        os.getpid(),
    )


__all__ = ["give_back", "resident_mb"]

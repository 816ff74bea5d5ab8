"""Optional stage timings and memory for profiling big runs (``DEDUPE_TRACE=1``)."""

from __future__ import annotations

import os
import sys
import time

_ON = bool(os.environ.get("DEDUPE_TRACE"))
_last = [time.perf_counter(), time.process_time()]


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux), else 0."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str) -> None:
    """Print the time since the previous stage and the memory now, when tracing is on."""
    if not _ON:
        return
    now, cpu = time.perf_counter(), time.process_time()
    print(
        f"[dedupe] {name}: {now - _last[0]:.2f} s wall, {cpu - _last[1]:.2f} s cpu, "
        f"{rss_mb():.0f} MB (peak {_peak_mb():.0f})",
        file=sys.stderr,
    )
    _last[:] = [now, cpu]

"""The memory of a process and of all its descendants together, sampled by a thread.

A process's own peak (``ru_maxrss``, ``VmHWM``) does not say what several processes hold at
once: a service whose matching workers or index worker peak while it holds its own state needs
the sum of them all at one moment. :class:`MemorySampler` reads, every ``interval`` seconds,
the resident memory of this process and of every process below it (``/proc/<pid>/task/*/
children``, recursively) and keeps the highest sum seen, with the share of each process at that
moment.

Two sums are kept: the resident set (``/proc/<pid>/statm``: cheap, read at every sample; pages
that several processes share, their libraries, are counted once per process) and the
proportional set (``Pss`` of ``/proc/<pid>/smaps_rollup``: a shared page counted once in all,
what the machine really gives them; dearer to read, every ``pss_every`` samples). A child
caught between its fork and its ``exec`` (a ``spawn`` start) still maps its parent's pages:
the resident sum counts them twice for that moment, the proportional one does not.

Example::

    with MemorySampler() as sampler:
        work()
    sampler.figures()  # {"combined_peak_mb": ..., "combined_peak_pss_mb": ..., ...}
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")
_MB = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, at this moment (gone ones left out)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def resident_bytes(pid: int) -> int:
    """The resident set of ``pid`` (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def proportional_bytes(pid: int) -> int:
    """The proportional set of ``pid`` (its shared pages divided between their holders)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _name(pid: int) -> str:
    if pid == os.getpid():
        return f"self/{pid}"
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() + f"/{pid}"
    except OSError:
        return str(pid)


class MemorySampler:
    """Samples this process and its descendants from a thread of its own until stopped."""

    def __init__(
        self,
        interval: float = 0.05,
        pss_every: int = 4,
        pid: int | None = None,
        timeline: Any = None,
    ):
        """``timeline``: a text file that gets one line a second (seconds since the start,
        the resident sum, each process's share), to see when the memory grows."""
        self.interval = interval
        self.timeline = timeline
        self._started = time.perf_counter()
        self.pss_every = pss_every
        self.pid = pid if pid is not None else os.getpid()
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_rss_shares: dict[str, int] = {}
        self.peak_pss_shares: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample(pss=True)  # the end too, however short the stage

    def sample(self, pss: bool) -> None:
        pids = descendants(self.pid)
        rss = {pid: resident_bytes(pid) for pid in pids}
        total = sum(rss.values())
        if self.timeline is not None and self.samples % 20 == 0:
            shares = " ".join(f"{_name(pid)}={v // _MB}" for pid, v in rss.items() if v)
            elapsed = time.perf_counter() - self._started
            self.timeline.write(f"{elapsed:.1f} {total // _MB} {shares}\n")
            self.timeline.flush()
        if total > self.peak_rss:
            self.peak_rss = total
            self.peak_rss_shares = {_name(pid): v // _MB for pid, v in rss.items() if v}
        if pss:
            shares = {pid: proportional_bytes(pid) for pid in pids}
            total = sum(shares.values())
            if total > self.peak_pss:
                self.peak_pss = total
                self.peak_pss_shares = {_name(pid): v // _MB for pid, v in shares.items() if v}
        self.samples += 1

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(self.interval):
            self.sample(pss=count % self.pss_every == 0)
            count += 1

    def figures(self) -> dict[str, Any]:
        """The highest sums (MB), each with every process's share at that moment."""
        return {
            "combined_peak_mb": self.peak_rss // _MB,
            "combined_peak_processes": self.peak_rss_shares,
            "combined_peak_pss_mb": self.peak_pss // _MB,
            "combined_peak_pss_processes": self.peak_pss_shares,
            "memory_samples": self.samples,
        }


__all__ = ["MemorySampler", "descendants", "proportional_bytes", "resident_bytes"]

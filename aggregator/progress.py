"""Progress of long work at the terminal: records read with their rate, matching and index
build with their elapsed time, and time left estimated from the last time the same work ran.

On a terminal one line is redrawn in place; elsewhere (a log file, a container) a line is
written at most every ``every_s`` seconds, so that logs stay readable.

Example::

    progress = Progress()
    with progress.stage("matching", expected_s=30):
        ...
    progress.count("reading toutoulouse-csv", 12_000, total=50_000)
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Writes progress lines to ``stream`` (stderr by default)."""

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, every_s: float = 10.0
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s = 0.25 if self.tty else every_s
        self._last = 0.0
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def _write(self, text: str, *, final: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not final and now - self._last < self.every_s:
                return
            self._last = now
            if self.tty:
                self.stream.write("\r\033[K" + text + ("\n" if final else ""))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def count(self, label: str, done: int, total: int | None = None) -> None:
        """``done`` records of ``label`` so far, of about ``total`` (the last run's count)."""
        started = self._started.setdefault(label, time.monotonic())
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed
        text = f"{label}: {done:,} records, {rate:,.0f}/s"
        if total and total > done and rate > 0:
            text += f", about {duration((total - done) / rate)} left"
        self._write(text)

    def done(self, label: str, summary: str) -> None:
        started = self._started.pop(label, None)
        took = f" in {duration(time.monotonic() - started)}" if started is not None else ""
        self._write(f"{label}: {summary}{took}", final=True)

    @contextmanager
    def stage(self, label: str, expected_s: float | None = None) -> Iterator[None]:
        """A stage whose inside cannot be counted: its elapsed time, and the time left when
        the same stage took ``expected_s`` last time; redrawn from a thread while it runs."""
        started = time.monotonic()
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(self.every_s):
                elapsed = time.monotonic() - started
                text = f"{label}: {duration(elapsed)}"
                if expected_s and expected_s > elapsed:
                    text += f", about {duration(expected_s - elapsed)} left"
                self._write(text)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self._write(f"{label}: done in {duration(time.monotonic() - started)}", final=True)

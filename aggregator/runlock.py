"""One run at a time per data dir: an advisory file lock, released by the kernel on any exit."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aggregator.models import utcnow

LOCK_FILE = "run.lock"


class RunInProgress(Exception):
    """Another process (or thread) holds the data dir's run lock; the message says who."""


@contextmanager
def run_lock(data_dir: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold ``data_dir/run.lock`` for the block, or raise :class:`RunInProgress` at once (with
    ``wait``, block until the holder lets go: a worker queues behind a command-line run).

    ``flock`` belongs to the open file: a second open in the same process conflicts too, and a
    process killed with SIGKILL releases it, so a crash never leaves the data dir locked.
    """
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise RunInProgress(
            f"a run is in progress since {holder.get('since', 'an unknown time')}, "
            f"pid {holder.get('pid', 'unknown')} (lock {path}); try again when it has finished"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": utcnow().isoformat()}).encode(), 0)
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _holder(fd: int) -> dict[str, object]:
    """Who holds the lock, as it wrote itself down (empty while it is writing)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

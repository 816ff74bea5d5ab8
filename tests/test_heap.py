"""Freed memory handed back to the operating system (``aggregator.heap``)."""

from __future__ import annotations

import logging
import platform

import pytest

from aggregator.heap import give_back, resident_mb

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)


@glibc
def test_freed_blocks_below_a_live_one_go_back() -> None:
    # Blocks of 2 kB bypass Python's small-object allocator: they come from malloc's heap. The
    # last one, kept, pins the heap's top, so malloc cannot shrink the heap by itself.
    blocks = [bytes(2000) + bytes([i % 256]) for i in range(100_000)]
    kept = blocks[-1]
    held = resident_mb()
    del blocks
    freed = resident_mb()
    give_back()
    given = resident_mb()
    assert kept[-1] == 99_999 % 256
    assert freed > given + 100, (held, freed, given)


@glibc
def test_what_was_given_back_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="aggregator.heap"):
        give_back("a test")
    assert "memory given back after a test" in caplog.text
    assert "MB resident" in caplog.text

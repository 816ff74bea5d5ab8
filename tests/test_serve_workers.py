"""`aggregator serve --workers N`: uvicorn's supervisor and workers on a TCP_NODELAY socket of ours.

Speed is measured, not timed here (see ``benchmarks/search_serve.py``): these tests check that the
served connections get ``TCP_NODELAY``, that several workers answer keep-alive requests, and that
stopping the server leaves no worker behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aggregator.cli import _listening_socket
from tests.test_cli import cli_env
from tests.webserver import free_port


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`aggregator serve ARGS` on a free loopback port, answering /healthz; yields (port, process).

    The server gets its own process group, so that what it leaves behind can be found (and, if a
    test fails, killed: that group only).
    """
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "serve", "--port", str(port), *args],
            env=cli_env(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited with {process.returncode}:\n{_log(log_path)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer /healthz:\n{_log(log_path)}")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                if _get(conn, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        yield port, process
    finally:
        if process.poll() is None or _group_alive(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-4000:]


def test_two_workers_answer_keep_alive_requests_and_stop_cleanly(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as (port, process):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            answers = []
            for _ in range(20):
                answers.append(_get(conn, "/healthz"))
                assert conn.sock is not None, "the server closed the keep-alive connection"
                if len(answers) == 1:
                    local = conn.sock.getsockname()
                assert conn.sock.getsockname() == local, "the client had to reconnect"
        finally:
            conn.close()
        assert [status for status, _ in answers] == [200] * 20
        assert all(b'"status":"ok"' in body for _, body in answers)

        # Ctrl-C to the supervisor alone: it stops its workers, then the scheduler and the store.
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, _log(tmp_path / "serve.log")
        deadline = time.monotonic() + 30
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(process.pid), "a worker outlived the server"


def test_served_connections_get_tcp_nodelay() -> None:
    """What the workers do with the socket: asyncio accepts on it, and sets ``TCP_NODELAY`` on
    each connection only because the socket says ``IPPROTO_TCP``."""

    async def accepted_nodelay(listener: socket.socket) -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Accept(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                conn = transport.get_extra_info("socket")
                seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Accept, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            try:
                return await asyncio.wait_for(seen, timeout=10)
            finally:
                writer.close()

    listener = _listening_socket("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert asyncio.run(accepted_nodelay(listener))

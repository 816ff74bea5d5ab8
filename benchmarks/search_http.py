"""The HTTP half of ``benchmarks/search.py``: the real FastAPI app under uvicorn, several worker
processes (tantivy searches scale with processes, not threads), and a small keep-alive client.

The client is raw asyncio HTTP/1.1 on purpose: it shares the machine's cores with the server,
and a heavier client would measure itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from search import SearchQuery

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data_dir: Path, config_dir: Path, workers: int) -> Iterator[tuple[str, int]]:
    """``aggregator.web.app:create_app`` under uvicorn, ``workers`` processes, on a loopback
    port (see ``search_serve``); yields (host, port)."""
    port = free_port()
    env = {
        **os.environ,
        "AGGREGATOR_DATA_DIR": str(data_dir),
        "AGGREGATOR_CONFIG_DIR": str(config_dir),
        "AGGREGATOR_SEARCH_BACKEND": "embedded",
    }
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "search_serve.py"),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # uvicorn restarts a worker that dies on import forever: check the app imports first.
    subprocess.run(
        [sys.executable, "-c", "import aggregator.web.app"], cwd=ROOT, env=env, check=True
    )
    log = open(data_dir.parent / "uvicorn.log", "wb")  # noqa: SIM115 - closed below
    # Its own process group: the supervisor and its workers are stopped together, and only them.
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_ready("127.0.0.1", port, process, workers)
        yield "127.0.0.1", port
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_ready(host: str, port: int, process: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 120
    target = path_for(SearchQuery(text="pain"))
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            status, _ = asyncio.run(_one(host, port, target))
            if status == 200:
                answered += 1
                if answered >= 4 * workers:  # every worker has opened the index
                    return
                continue
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("uvicorn did not answer within 120 s (see uvicorn.log)")


def path_for(query: SearchQuery) -> str:
    params: dict[str, str] = {"q": query.text}
    for name in ("city", "postcode", "category", "platform", "lat", "lon", "radius_m"):
        value = getattr(query, name)
        if value is not None:
            params[name] = str(value)
    if query.sort != "relevance":
        params["sort"] = query.sort
    return "/api/search?" + urlencode(params)


async def _one(host: str, port: int, target: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        return await _request(reader, writer, host, target)
    finally:
        writer.close()


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, target: str
) -> tuple[int, bytes]:
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    return status, await reader.readexactly(length)


def sequential_latencies(host: str, port: int, targets: list[str]) -> list[float]:
    """Milliseconds per request, one client, one keep-alive connection."""

    async def run() -> list[float]:
        reader, writer = await asyncio.open_connection(host, port)
        latencies = []
        for target in targets:
            started = time.perf_counter()
            status, _ = await _request(reader, writer, host, target)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{target} answered {status}")
        writer.close()
        return latencies

    return asyncio.run(run())


def throughput(host: str, port: int, targets: list[str], clients: int) -> tuple[float, int]:
    """(requests per second, failures) with ``clients`` concurrent keep-alive clients sharing
    the targets."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    async def client() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        failures = 0
        while True:
            try:
                target = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            status, _ = await _request(reader, writer, host, target)
            failures += status != 200
        writer.close()
        return failures

    async def run() -> tuple[float, int]:
        for target in targets:
            queue.put_nowait(target)
        started = time.perf_counter()
        failures = await asyncio.gather(*(client() for _ in range(clients)))
        return len(targets) / (time.perf_counter() - started), sum(failures)

    return asyncio.run(run())

"""Real HTTP servers on 127.0.0.1 for tests: a dict of routes or a directory, served from a thread.

Example::

    with serve_routes({"/shops.csv": (200, {}, "id;name\\n1;Fournil")}) as url:
        ...  # url is "http://127.0.0.1:PORT"; url.requests lists what the server received

    def page(target):  # a route may be a callable: it gets the path and query (a str)
        n = int(target.query.get("page", "1"))
        return 200, {}, json.dumps({"data": PAGES[n]})
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: (status, headers, body); a body given as an iterator of bytes is streamed without a length.
Response = tuple[int, Mapping[str, str], bytes | str | Iterable[bytes]]
Route = Response | Callable[["RequestTarget"], Response]


class RequestTarget(str):
    """The request's path and query as a ``str``, with its method and headers."""

    method: str
    headers: Message

    @property
    def path(self) -> str:
        return urlsplit(self).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self).query, keep_blank_values=True))


class BaseURL(str):
    """``http://127.0.0.1:PORT``, with the requests the server received so far."""

    requests: list[RequestTarget]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping must not hold the test up
    log: list[RequestTarget]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client hanging up is fine


class _Recording(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _record(self) -> RequestTarget:
        target = RequestTarget(self.path)
        target.method, target.headers = self.command, self.headers
        self.server.log.append(target)
        return target


@contextlib.contextmanager
def _running(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[BaseURL]:
    server = _Server(("127.0.0.1", 0), handler)
    base = BaseURL(f"http://127.0.0.1:{server.server_address[1]}")
    base.requests = server.log = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def serve_routes(routes: Mapping[str, Route]) -> Iterator[BaseURL]:
    """Serve ``{path: (status, headers, body) or callable(target) -> (status, headers, body)}``.

    Paths are matched without the query; unknown paths get a 404. ``Content-Length`` is added
    for bytes and str bodies unless the headers give one.
    """

    class Handler(_Recording):
        def do_GET(self) -> None:
            status, headers, body = self._answer(self._record())
            chunks = [body.encode("utf-8")] if isinstance(body, str) else body
            chunks = [chunks] if isinstance(chunks, bytes) else chunks
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            sized = isinstance(chunks, list)
            if sized and not any(name.lower() == "content-length" for name in headers):
                self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
            self.end_headers()
            if self.command == "HEAD" or status in (204, 304):
                return
            for chunk in chunks:
                self.wfile.write(chunk)

        def _answer(self, target: RequestTarget) -> Response:
            route = routes.get(target.path)
            if route is None:
                return 404, {}, b"not found"
            if not callable(route):
                return route
            try:
                return route(target)
            except Exception as exc:  # show the test's own bug instead of a hang-up
                return 500, {}, f"route failed: {exc!r}"

        do_HEAD = do_GET

    with _running(Handler) as base:
        yield base


@contextlib.contextmanager
def serve_directory(path: str | Path) -> Iterator[BaseURL]:
    """Serve the files under ``path`` (with Last-Modified, as a static server would)."""

    class Handler(SimpleHTTPRequestHandler, _Recording):
        def send_head(self) -> Any:
            self._record()
            return super().send_head()

    with _running(functools.partial(Handler, directory=str(path))) as base:
        yield base


@contextlib.contextmanager
def only_loopback_connections() -> Iterator[None]:
    """Fail the test if anything resolves a name or opens a connection beyond this machine."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def local(host: Any) -> bool:
        host = host.decode() if isinstance(host, bytes) else str(host)
        if host == "localhost":
            return True
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            return True  # a literal: no DNS query leaves; connecting is checked below
        return False

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not local(host):
            raise AssertionError(f"a test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
        host = address[0]
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a test tried to connect to {host}")
        return real_connect(address, *args, **kwargs)

    socket.getaddrinfo, socket.create_connection = getaddrinfo, create_connection  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo, socket.create_connection = real_getaddrinfo, real_connect  # type: ignore[assignment]

"""The connection guard under the feeds' HTTP client: every connection a feed causes is opened
here, to addresses vetted after one resolution (no private, loopback, link-local… address unless
the allow-list names its host and port), and every read waits no later than the download's
deadline. :mod:`connectors.http` builds the client on it.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

import certifi
import httpcore
import httpx

from connectors.base import ConnectorError

#: Checked in this order, so 169.254.169.254 is reported link-local rather than private.
_ADDRESS_CLASSES = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")
Resolver = Callable[..., list[Any]]  # socket.getaddrinfo's signature
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: Ports a bare allow-list entry (``127.0.0.1``, no ``:port``) opens: the web's own.
DEFAULT_PORTS = frozenset({80, 443})


def host_allowed(allowed: Iterable[str], host: str, port: int | None) -> bool:
    """Whether an allow-list lets a feed reach ``host:port`` although its address is not public.

    Entries are ``host:port`` (that port only), ``host:*`` (every port: tests and the demo,
    whose servers take any free port) or a bare ``host`` (ports 80 and 443 only), so a feed
    allowed on one port cannot send the client to another service of the same host (a
    redirect to ``127.0.0.1:5432``). IPv6 literals are written in brackets: ``[::1]:8080``.
    """
    host = host.strip("[]").lower()
    names = {host, f"[{host}]"} if ":" in host else {host}
    for entry in allowed:
        name, port_text = split_entry(entry)
        if name not in names:
            continue
        if port_text == "*" or (port_text is None and (port is None or port in DEFAULT_PORTS)):
            return True
        if port_text is not None and port_text.isdigit() and int(port_text) == port:
            return True
    return False


def split_entry(entry: str) -> tuple[str, str | None]:
    """``host:port`` -> (host, port); a bare host or IPv6 literal -> (host, None)."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        name, _, rest = entry.partition("]")
        return name + "]", rest.removeprefix(":") or None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, port
    return entry, None


def allowed_names(allowed: Iterable[str]) -> frozenset[str]:
    """The host names an allow-list mentions, whatever the port (for a resolver's check)."""
    return frozenset(split_entry(entry)[0].strip("[]") for entry in allowed if entry.strip())


class AddressRefused(ConnectorError):
    """A host resolved to an address feeds may not be fetched from (raised before connecting)."""


def address_problem(address: str) -> str | None:
    """Why feeds may not be fetched from ``address`` (an IP literal), or None when it is public."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):  # IPv4 reached through IPv6: judge the IPv4
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        ip = ip.ipv4_mapped or ip.sixtofour or nat64 or ip
    for name in _ADDRESS_CLASSES:
        if getattr(ip, f"is_{name}"):
            return f"address {ip} is {name.replace('_', '-')}"
    return None if ip.is_global else f"address {ip} is not globally routable"


class GuardedNetwork(httpcore.NetworkBackend):
    """The client's only way to open a connection: it resolves the host once, vets every address
    and dials those addresses, so a DNS answer that changes between check and connect (rebinding)
    cannot slip through, and a refused address never sees a packet.
    """

    def __init__(self, allowed_hosts: Iterable[str] = (), resolver: Resolver | None = None):
        self.allowed_hosts = frozenset(h.strip().lower() for h in allowed_hosts if h.strip())
        self._resolver = resolver
        self._inner = httpcore.SyncBackend()

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to; ``AddressRefused`` if one is not public."""
        host = host.strip("[]").lower()
        try:
            infos = (self._resolver or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve host {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not host_allowed(self.allowed_hosts, host, port):
            for problem in filter(None, map(address_problem, addresses)):
                raise AddressRefused(problem)
        return addresses

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in self.addresses(host, port):
            try:
                return _DeadlineStream(self._inner.connect_tcp(address, port, *args, **kwargs))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error


#: The ``time.monotonic()`` instant the current download must end by (set by ``FeedClient.get``).
_DOWNLOAD_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "download_ends", default=None
)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits no later than the download's deadline, so
    a server dripping its status line or headers (before any body) is cut off too."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def _timeout(self, timeout: float | None) -> float | None:
        ends = _DOWNLOAD_ENDS.get()
        if ends is None:
            return timeout
        left = ends - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the download's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return bytes(self._inner.read(max_bytes, self._timeout(timeout)))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())  # loaded once, shared by clients


def _guarded_transport(network: GuardedNetwork) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=_ssl_context(), trust_env=False)
    # httpx has no public hook for the network backend: swap its pool for one using ours, and
    # refuse to run unguarded should a new httpx version rename the attribute.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("this httpx version hides its connection pool: the SSRF guard needs it")
    transport._pool = httpcore.ConnectionPool(ssl_context=_ssl_context(), network_backend=network)
    return transport

"""The feed client against real loopback servers: SSRF guard, redirects, limits, retries."""

from __future__ import annotations

import gzip
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import serve_routes

from aggregator.settings import Settings
from connectors.base import ConnectorError, ReadContext
from connectors.http import FeedClient, address_problem, build_context, fetch_source, open_source

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

MB = 1024 * 1024


def client(*allowed: str, **options: object) -> FeedClient:
    waits: list[float] = []
    options.setdefault("sleep", waits.append)
    feed_client = FeedClient(allowed_hosts=allowed, **options)  # type: ignore[arg-type]
    feed_client.waits = waits  # type: ignore[attr-defined]
    return feed_client


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- fetching from an allowed host --------------------------------------------------------------


def test_get_returns_status_headers_body_and_sends_our_user_agent() -> None:
    routes = {"/shops.csv": (200, {"Content-Type": "text/csv", "ETag": '"v1"'}, "id;name\n")}
    with serve_routes(routes) as base, client("127.0.0.1:*", user_agent="test-agent/1") as http:
        response = http.get(f"{base}/shops.csv")
    assert (response.status, response.content) == (200, b"id;name\n")
    assert response.headers["etag"] == '"v1"'
    assert response.url == f"{base}/shops.csv"
    assert base.requests[0].headers["User-Agent"] == "test-agent/1"


def test_from_settings_takes_the_allow_list_and_limits() -> None:
    settings = Settings(allow_hosts="127.0.0.1, Feed.Local", max_body_bytes=1234, http_timeout_s=3)
    with FeedClient.from_settings(settings) as http:
        assert http.network.allowed_hosts == {"127.0.0.1", "feed.local"}
        assert (http.max_body_bytes, http.timeout_s) == (1234, 3)


def test_a_not_found_feed_is_an_error_naming_the_url() -> None:
    with serve_routes({}) as base, client("127.0.0.1:*") as http:
        expected = f"cannot fetch {base}/gone.csv: .* 404 Not Found"
        with pytest.raises(ConnectorError, match=expected):
            http.get(f"{base}/gone.csv")


# -- the SSRF guard: refused before any connection ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local"),
        ("http://127.0.0.1:9/x.csv", "address 127.0.0.1 is loopback"),
        ("http://10.0.0.1/feed.json", "address 10.0.0.1 is private"),
        ("http://192.168.1.20/feed.json", "address 192.168.1.20 is private"),
        ("http://[::1]:9/feed.json", "address ::1 is loopback"),
        ("http://[::ffff:169.254.169.254]/", "address 169.254.169.254 is link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/", "address 169.254.169.254 is link-local"),  # NAT64
        ("http://[2002:a00:1::]/", "address 10.0.0.1 is private"),  # 6to4
        ("http://0.0.0.0:9/", "address 0.0.0.0 is unspecified"),
        ("http://224.0.0.1/", "address 224.0.0.1 is multicast"),
        ("http://100.64.0.1/", "address 100.64.0.1 is not globally routable"),
    ],
)
def test_non_public_addresses_are_refused_before_connecting(url: str, reason: str) -> None:
    with client() as http, pytest.raises(ConnectorError) as refused:
        http.get(url)
    assert str(refused.value) == f"refused {url}: {reason}"


def test_a_name_resolving_to_loopback_is_refused_unless_that_name_is_allowed() -> None:
    with serve_routes({"/a": (200, {}, b"ok")}) as base:
        port = base.rsplit(":", 1)[1]
        with client("127.0.0.1:*") as http, pytest.raises(ConnectorError, match="is loopback"):
            http.get(f"http://localhost:{port}/a")
        with client("localhost:*") as http:
            assert http.get(f"http://localhost:{port}/a").content == b"ok"


def test_loopback_is_fetched_only_when_allowed() -> None:
    with serve_routes({"/a": (200, {}, b"ok")}) as base:
        with client() as http, pytest.raises(ConnectorError, match="address 127.0.0.1 is loopback"):
            http.get(f"{base}/a")
        assert base.requests == []
        with client("127.0.0.1:*") as http:
            assert http.get(f"{base}/a").content == b"ok"


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """A host is resolved once: a DNS answer cannot change between the check and the connect."""
    with serve_routes({"/a": (200, {}, b"pinned")}) as base:
        port = int(base.rsplit(":", 1)[1])
        answers: list[str] = []

        def resolver(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
            answers.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        with client(resolver=resolver) as http, pytest.raises(ConnectorError, match="loopback"):
            http.get(f"http://feed.example:{port}/a")
        with client("feed.example:*", resolver=resolver) as http:
            assert http.get(f"http://feed.example:{port}/a").content == b"pinned"
    assert answers == ["feed.example", "feed.example"]
    assert base.requests[0].headers["Host"] == f"feed.example:{port}"


def test_only_http_and_https_are_fetched() -> None:
    with client() as http:
        for url in ("ftp://example.org/x.csv", "file:///etc/passwd", "gopher://x/"):
            with pytest.raises(ConnectorError, match="only http"):
                http.get(url)


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://localhost:{port}/secret"]
)
def test_a_redirect_to_a_refused_address_is_refused(target: str) -> None:
    routes = {"/feed": lambda _: (302, {"Location": target.format(port=port)}, b"")}
    with serve_routes(routes) as base, client("127.0.0.1:*") as http:
        port = base.rsplit(":", 1)[1]
        with pytest.raises(ConnectorError) as refused:
            http.get(f"{base}/feed")
    message = str(refused.value)
    assert message.startswith(f"refused {target.format(port=port)} (redirected from {base}/feed)")
    assert "link-local" in message or "loopback" in message
    assert len(base.requests) == 1


def test_redirects_are_followed_up_to_a_limit_and_credentials_stay_on_their_origin() -> None:
    with serve_routes({"/final": (200, {}, b"done")}) as other:
        routes = {
            "/a": (301, {"Location": "/b"}, b""),
            "/b": (302, {"Location": f"{other.replace('127.0.0.1', 'localhost')}/final"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
        }
        with serve_routes(routes) as base, client("127.0.0.1:*", "localhost:*") as http:
            response = http.get(f"{base}/a", headers={"Authorization": "Bearer s3cret"})
            assert response.content == b"done"
            assert response.url.endswith("/final")
            assert base.requests[1].headers["Authorization"] == "Bearer s3cret"
            assert other.requests[0].headers["Authorization"] is None
            with pytest.raises(ConnectorError, match="more than 5 redirects"):
                http.get(f"{base}/loop")


# -- size limits -----------------------------------------------------------------------------------


def test_a_body_over_the_limit_stops_with_a_clear_error() -> None:
    body = b"x" * (2 * MB)
    routes = {"/big": (200, {}, body), "/streamed": (200, {}, iter([body]))}
    with serve_routes(routes) as base, client("127.0.0.1:*", max_body_bytes=MB) as http:
        for path in ("/big", "/streamed"):  # with and without a Content-Length
            with pytest.raises(ConnectorError, match=f"stopped reading {base}{path}: larger"):
                http.get(f"{base}{path}")


def gzip_of_zeros(total: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for _ in range(total // MB):
        yield compressor.compress(bytes(MB))
    yield compressor.flush()


def test_a_gzip_bomb_stops_at_the_limit_of_decompressed_bytes() -> None:
    bomb = b"".join(gzip_of_zeros(50 * MB))
    assert len(bomb) < MB // 4  # small on the wire: only counting inflated bytes stops it
    routes = {"/bomb.csv": (200, {"Content-Encoding": "gzip"}, bomb)}
    with serve_routes(routes) as base, client("127.0.0.1:*", max_body_bytes=MB) as http:
        expected = f"stopped reading {base}/bomb.csv: larger"
        with pytest.raises(ConnectorError, match=expected):
            http.get(f"{base}/bomb.csv")


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    text = "id;name\n1;Fournil d'Émile\n".encode() * 100
    routes = {
        "/g": (200, {"Content-Encoding": "gzip"}, gzip.compress(text)),
        "/d": (200, {"Content-Encoding": "deflate"}, zlib.compress(text)),
    }
    with serve_routes(routes) as base, client("127.0.0.1:*") as http:
        assert http.get(f"{base}/g").content == text
        assert http.get(f"{base}/d").content == text


# -- retries, timeouts -----------------------------------------------------------------------------


def test_503_with_retry_after_is_retried_then_succeeds() -> None:
    answers = iter([(503, {"Retry-After": "1"}, b"busy"), (200, {}, b"id\n")])
    with serve_routes({"/f": lambda _: next(answers)}) as base, client("127.0.0.1:*") as http:
        assert http.get(f"{base}/f").content == b"id\n"
    assert http.waits == [1.0]  # type: ignore[attr-defined]
    assert len(base.requests) == 2


def test_retry_after_is_capped_and_the_last_failure_is_reported() -> None:
    busy = (429, {"Retry-After": "3600"}, b"")
    with (
        serve_routes({"/f": busy}) as base,
        client("127.0.0.1:*", max_wait_s=2) as http,
        pytest.raises(ConnectorError, match="answered 429 Too Many Requests after 3 tries"),
    ):
        http.get(f"{base}/f")
    assert http.waits == [2.0, 2.0]  # type: ignore[attr-defined]


def test_connection_refused_is_retried_with_backoff_then_reported() -> None:
    url = f"http://127.0.0.1:{unused_port()}/x.csv"
    with client("127.0.0.1:*", backoff_s=0.5) as http, pytest.raises(ConnectorError) as failed:
        http.get(url)
    assert str(failed.value) == f"cannot reach {url}: connection refused (3 tries)"
    first, second = http.waits  # type: ignore[attr-defined]
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 1.5


def test_a_server_that_does_not_answer_times_out() -> None:
    def slow(_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1)
        return 200, {}, b"late"

    with (
        serve_routes({"/slow": slow}) as base,
        client("127.0.0.1:*", timeout_s=0.1, max_tries=1) as http,
        pytest.raises(ConnectorError, match=r"cannot fetch .*/slow: no data for 0.1 s"),
    ):
        http.get(f"{base}/slow")


# -- local files and the read context --------------------------------------------------------------


def test_local_files_only_when_the_context_allows_them(tmp_path: Path) -> None:
    feed = tmp_path / "shops.csv"
    feed.write_bytes(b"id;name\n")
    with client() as http:
        refused = ReadContext(http=http, allow_local_files=False)
        for source in (str(feed), feed.as_uri()):
            with pytest.raises(
                ConnectorError,
                match="local files are only accepted from the command line or the config directory",
            ):
                open_source(source, refused)
        allowed = ReadContext(http=http, allow_local_files=True)
        assert open_source(str(feed), allowed) == b"id;name\n"
        assert fetch_source(feed.as_uri(), allowed).url == feed.as_uri()
        with pytest.raises(ConnectorError, match="cannot read .*missing.csv"):
            open_source(str(tmp_path / "missing.csv"), allowed)


def test_local_files_have_the_same_size_limit(tmp_path: Path) -> None:
    feed = tmp_path / "big.csv"
    feed.write_bytes(b"x" * 2048)
    with (
        client(max_body_bytes=1024) as http,
        pytest.raises(ConnectorError, match="larger than the 1024-byte max_body_bytes"),
    ):
        open_source(str(feed), ReadContext(http=http, allow_local_files=True))


def test_open_source_fetches_urls_through_the_client() -> None:
    settings = Settings(allow_hosts="127.0.0.1:*")
    context = build_context(settings, allow_local_files=False)
    with serve_routes({"/f.json": (200, {}, b"[]")}) as base:
        assert open_source(f"{base}/f.json", context) == b"[]"
    context.http.close()


def test_address_problem_lets_public_addresses_through() -> None:
    assert address_problem("93.184.216.34") is None
    assert address_problem("2606:4700::1111") is None
    assert address_problem("fe80::1") == "address fe80::1 is link-local"

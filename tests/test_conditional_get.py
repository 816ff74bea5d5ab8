"""The conditional GET shared by the connectors, against real loopback servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from loopback import RequestTarget, serve_directory, serve_routes

from connectors.base import ReadContext
from connectors.http import conditional_headers, fetch_if_changed, validators

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

ETAG, LAST_MODIFIED = '"v1"', "Tue, 01 Dec 2020 10:00:00 GMT"
BODY = "id,name\n1,Fournil\n"


def versioned(target: RequestTarget) -> tuple[int, dict[str, str], str]:
    """A feed that answers 304 to a request naming its current ETag."""
    headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
    if target.headers["If-None-Match"] == ETAG:
        return 304, headers, ""
    return 200, headers, BODY


def test_a_second_fetch_sends_the_validators_and_304_is_unchanged(context: ReadContext) -> None:
    with serve_routes({"/shops.csv": versioned}) as base:
        url = f"{base}/shops.csv"
        first = fetch_if_changed(url, context, {})
        assert first is not None and first.content == BODY.encode()
        state = validators(first)
        assert state == {"etag": ETAG, "last_modified": LAST_MODIFIED}
        assert fetch_if_changed(url, context, state) is None
    initial, second = base.requests
    assert initial.headers["If-None-Match"] is None
    assert initial.headers["If-Modified-Since"] is None
    assert second.headers["If-None-Match"] == ETAG
    assert second.headers["If-Modified-Since"] == LAST_MODIFIED


def test_a_changed_feed_is_returned_with_its_new_validators(context: ReadContext) -> None:
    with serve_routes({"/shops.csv": versioned}) as base:
        response = fetch_if_changed(f"{base}/shops.csv", context, {"etag": '"v0"'})
    assert response is not None and response.status == 200
    assert validators(response)["etag"] == ETAG
    assert base.requests[0].headers["If-None-Match"] == '"v0"'
    assert base.requests[0].headers["If-Modified-Since"] is None


def test_a_static_server_answers_304_on_last_modified_alone(
    tmp_path: Path, context: ReadContext
) -> None:
    (tmp_path / "shops.csv").write_text(BODY, encoding="utf-8")
    with serve_directory(tmp_path) as base:
        url = f"{base}/shops.csv"
        first = fetch_if_changed(url, context, {})
        assert first is not None
        state = validators(first)
        assert state["etag"] is None and state["last_modified"]
        assert fetch_if_changed(url, context, state) is None


@pytest.mark.parametrize(
    "state", [{}, {"etag": None, "last_modified": None}, {"etag": "", "unrelated": 1}]
)
def test_a_state_without_validators_sends_no_condition(state: dict[str, Any]) -> None:
    assert conditional_headers("http://127.0.0.1/shops.csv", state) == {}


def test_a_local_file_is_always_read_again(tmp_path: Path, context: ReadContext) -> None:
    path = tmp_path / "shops.csv"
    path.write_text(BODY, encoding="utf-8")
    state = {"etag": ETAG, "last_modified": LAST_MODIFIED}
    assert conditional_headers(str(path), state) == {}
    response = fetch_if_changed(str(path), context, state)
    assert response is not None and response.content == BODY.encode()
    assert validators(response) == {"etag": None, "last_modified": None}

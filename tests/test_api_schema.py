"""Schemathesis over the app's own OpenAPI schema, on a real server: no input the schema
allows (or nearly allows) gets a server error, and every status answered is documented."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.killing import Feed, configure
from tests.loopback import only_loopback_connections, serve_routes
from tests.webserver import serve_app

#: Examples per operation: bounded so the suite stays quick (a deeper run: raise it locally).
EXAMPLES = 25


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("schema")
    feed = Feed(60)
    settings_ = Settings(
        data_dir=root / "var",
        config_dir=root / "config",
        allow_hosts="127.0.0.1:*",
        rate_public_per_s=0,  # the limits answer 429 long before the examples run out
        rate_operator_per_s=0,
    )
    with only_loopback_connections(), serve_routes({"/shops.csv": feed.route}) as url:
        configure(root, f"{url}/shops.csv")
        runtime = Runtime(settings_)
        try:
            runtime.run_all()
            _, key = runtime.store.create_api_key("killfeed", label="schema tests")
            with serve_app(runtime) as base:
                yield base, key
        finally:
            runtime.close()


@pytest.fixture(scope="module")
def api_schema(served: tuple[str, str]) -> Any:
    base, _ = served
    return schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_no_server_error_and_only_documented_statuses(
    api_schema: Any, served: tuple[str, str]
) -> None:
    _, key = served
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    seen: dict[str, set[int]] = {}
    for operation in operations:
        ask_many(operation, key, seen)
    # The generated requests reached the API, not only its validation.
    assert any(200 in codes for codes in seen.values()), seen


def ask_many(operation: Any, key: str, seen: dict[str, set[int]]) -> None:
    """``EXAMPLES`` generated requests to one operation, each answered below 500 with a status
    its spec documents."""
    documented = set(operation.definition.raw.get("responses", {}))
    name = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def ask(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {key}"}, timeout=30)
        seen.setdefault(name, set()).add(response.status_code)
        assert response.status_code < 500, (name, case.formatted_path, response.text[:300])
        assert str(response.status_code) in documented, (
            name,
            response.status_code,
            sorted(documented),
        )

    ask()


def test_the_schema_was_read(api_schema: Any) -> None:
    paths = {result.ok().path for result in api_schema.get_all_operations()}
    assert "/api/search" in paths and "/api/operator/connectors/{cid}/check" in paths

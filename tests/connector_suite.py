"""One standard suite every connector kind passes, generated from one class per kind.

Example (the whole test module of a kind)::

    class TestCsvKind(ConnectorSuite):
        kind = "csv"
        def feed(self):  # path -> (status, headers, body), served on loopback
            return {"/shops.csv": (200, {}, SHOPS)}
        def registration(self, base_url):
            return {"platform": "demo", "kind": "csv", "url": f"{base_url}/shops.csv",
                    "mapping": {"source_id": "id", "name": "nom"}}
        def broken_feed(self):  # the same feed failing half-way (optional)
            return {"/shops.csv": (200, {}, SHOPS[: len(SHOPS) // 2] + "\\x00garbage")}

The suite checks that records validate, ids are stable across runs, the checkpointed state
round-trips, a second run over an unchanged feed changes nothing, and a run over a feed that
fails keeps the previous state and every stored record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from loopback import serve_routes

from aggregator.models import ConnectorRegistration, OfferRecord, ShopRecord
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Checkpoint, Item, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind


class ConnectorSuite:
    kind: ClassVar[str]

    def feed(self) -> Mapping[str, Any]:
        raise NotImplementedError("a suite names the routes of its feed")

    def registration(self, base_url: str) -> dict[str, Any]:
        raise NotImplementedError("a suite names its registration")

    def broken_feed(self) -> Mapping[str, Any] | None:
        """The same feed failing half-way through; None when the kind cannot fail that way."""
        return None

    # -- fixtures -------------------------------------------------------------------------------
    @pytest.fixture
    def served(self) -> Iterator[tuple[dict[str, Any], str]]:
        routes = dict(self.feed())
        with serve_routes(routes) as base_url:
            yield routes, base_url

    @pytest.fixture
    def reg(self, served: tuple[dict[str, Any], str]) -> ConnectorRegistration:
        return ConnectorRegistration.model_validate(self.registration(served[1]))

    @pytest.fixture
    def settings(self, tmp_path: Any) -> Settings:
        return Settings(data_dir=tmp_path / "var", allow_hosts="127.0.0.1:*")

    @pytest.fixture
    def context(self, settings: Settings) -> Iterator[ReadContext]:
        client = FeedClient.from_settings(settings)
        yield ReadContext(http=client, allow_local_files=False)
        client.close()

    @pytest.fixture
    def store(self, tmp_path: Any) -> Iterator[Store]:
        store = Store.open(f"sqlite:///{tmp_path / 'suite.sqlite3'}")
        yield store
        store.dispose()

    def read_all(
        self, reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
    ) -> tuple[list[Item], list[Checkpoint]]:
        items, checkpoints = [], []
        for emitted in get_kind(self.kind).read(reg, dict(state or {}), context):
            if isinstance(emitted, Item):
                items.append(emitted)
            elif isinstance(emitted, Checkpoint):
                checkpoints.append(emitted)
        return items, checkpoints

    # -- the suite ------------------------------------------------------------------------------
    def test_records_validate(self, reg: ConnectorRegistration, context: ReadContext) -> None:
        items, _ = self.read_all(reg, context)
        assert items, "the feed yielded no record"
        for item in items:
            assert isinstance(item.record, ShopRecord | OfferRecord)
            assert item.record.platform == reg.platform
            assert item.locator
            json.dumps(item.raw, default=str)  # kept as received: must be storable

    def test_ids_are_stable_across_runs(
        self, reg: ConnectorRegistration, context: ReadContext
    ) -> None:
        first = [
            (type(i.record).__name__, i.record.source_id) for i in self.read_all(reg, context)[0]
        ]
        second = [
            (type(i.record).__name__, i.record.source_id) for i in self.read_all(reg, context)[0]
        ]
        assert first == second
        assert len(set(first)) == len(first), "two records share a source id"

    def test_state_round_trips(self, reg: ConnectorRegistration, context: ReadContext) -> None:
        _, checkpoints = self.read_all(reg, context)
        assert checkpoints, "the read never checkpointed"
        state = json.loads(json.dumps(checkpoints[-1].state))
        assert state == checkpoints[-1].state
        self.read_all(reg, context, state)  # resuming from the saved state works

    def test_second_run_over_unchanged_feed_changes_nothing(
        self, reg: ConnectorRegistration, context: ReadContext, store: Store, settings: Settings
    ) -> None:
        store.save_connector(reg, origin="api")
        first = run_connector(store, reg, context, settings)
        assert first.status == "ok", first.errors
        assert first.counts.new > 0
        second = run_connector(store, reg, context, settings)
        assert second.status == "ok", second.errors
        assert (second.counts.new, second.counts.changed, second.counts.gone) == (0, 0, 0)

    def test_feed_failing_half_way_keeps_previous_state(
        self,
        served: tuple[dict[str, Any], str],
        reg: ConnectorRegistration,
        context: ReadContext,
        store: Store,
        settings: Settings,
    ) -> None:
        broken = self.broken_feed()
        if broken is None:
            pytest.skip(f"{self.kind}: the feed is one document, it cannot fail half-way")
        cid = store.save_connector(reg, origin="api")
        assert run_connector(store, reg, context, settings).status == "ok"
        state, live = store.get_state(cid), store.count_raw(cid)
        routes, _ = served
        routes.clear()
        routes.update(broken)
        failed = run_connector(store, reg, context, settings)
        assert failed.status == "failed"
        assert failed.errors
        assert failed.counts.gone == 0
        assert store.get_state(cid) == state
        assert store.count_raw(cid) == live

"""The pipeline's promises, through ``run_connector`` over real loopback feeds and both stores: a
feed that shrinks suddenly marks nothing gone and says why, refused records are quarantined with
their locator, reason and excerpt, and a failing feed keeps the last good state and records."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from aggregator.models import ConnectorRegistration, Run, content_hash
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from connectors.http import FeedClient
from tests.loopback import RequestTarget, serve_routes

MAPPING = {"source_id": "id", "name": "nom", "city": "ville"}


def shops_csv(ids: range, *, unnamed: frozenset[int] = frozenset()) -> str:
    rows = [f"{i};{'' if i in unnamed else f'Boutique {i}'};Toulouse" for i in ids]
    return "id;nom;ville\n" + "".join(row + "\n" for row in rows)


class Feed:
    """A CSV feed on loopback whose body and ETag a test changes between runs; it answers
    304 to a matching ``If-None-Match``, or ``status`` when set."""

    def __init__(self, body: str, etag: str = '"v1"') -> None:
        self.body, self.etag, self.status = body, etag, 200

    def __call__(self, target: RequestTarget) -> tuple[int, dict[str, str], str]:
        if self.status != 200:
            return self.status, {}, "upstream trouble"
        if target.headers.get("If-None-Match") == self.etag:
            return 304, {"ETag": self.etag}, ""
        return 200, {"ETag": self.etag, "Content-Type": "text/csv"}, self.body


@pytest.fixture
def context() -> Iterator[ReadContext]:
    with FeedClient(allowed_hosts={"127.0.0.1:*"}, max_tries=1) as http:
        yield ReadContext(http=http, allow_local_files=False)


class Runner:
    """Runs one registration through the real pipeline into the store."""

    def __init__(self, store: Store, context: ReadContext, reg: ConnectorRegistration) -> None:
        self.store, self.context, self.reg = store, context, reg
        self.cid = store.save_connector(reg, origin="api")

    def __call__(self, **settings: Any) -> Run:
        return run_connector(self.store, self.reg, self.context, Settings(**settings))


@pytest.fixture
def csv_feed(store: Store, context: ReadContext) -> Iterator[tuple[Feed, Runner]]:
    feed = Feed(shops_csv(range(1, 11)))
    with serve_routes({"/shops.csv": feed}) as base_url:
        reg = ConnectorRegistration(
            platform="toutoulouse", kind="csv", url=f"{base_url}/shops.csv", mapping=MAPPING
        )
        yield feed, Runner(store, context, reg)


def test_a_feed_that_shrinks_suddenly_marks_nothing_gone_and_says_why(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    feed, run = csv_feed
    assert run().counts.new == 10
    feed.body, feed.etag = shops_csv(range(1, 5)), '"v2"'
    shrunk = run()
    assert shrunk.status == "partial" and shrunk.counts.gone == 0
    assert shrunk.errors == [
        "truncation guard: this refresh saw 4 of the 10 records the connector has live; "
        "below 50% nothing is marked gone"
    ]
    assert store.count_raw(run.cid) == 10
    feed.body, feed.etag = shops_csv(range(1, 6)), '"v3"'  # half of what is live: a real drop
    settled = run()
    assert (settled.status, settled.counts.gone, settled.errors) == ("ok", 5, [])
    assert store.count_raw(run.cid) == 5


def test_the_truncation_threshold_is_a_setting(csv_feed: tuple[Feed, Runner], store: Store) -> None:
    feed, run = csv_feed
    run()
    feed.body, feed.etag = shops_csv(range(1, 9)), '"v2"'
    assert run(truncation_ratio=0.9).status == "partial"
    assert store.count_raw(run.cid) == 10
    assert run(truncation_ratio=0.8).counts.gone == 2


def test_a_feed_of_garbage_rows_is_quarantined_not_a_wipe(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    feed, run = csv_feed
    run()
    feed.body, feed.etag = shops_csv(range(1, 11), unnamed=frozenset(range(1, 11))), '"v2"'
    garbage = run()
    assert (garbage.status, garbage.counts.rejected, garbage.counts.gone) == ("partial", 10, 0)
    assert store.count_raw(run.cid) == 10
    assert len(store.list_quarantine(garbage.id or 0)) == 10


def test_refused_csv_rows_are_quarantined_with_line_reason_and_excerpt(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    feed, run = csv_feed
    feed.body = shops_csv(range(1, 6), unnamed=frozenset({3})) + "6;Boutique 6;Toulouse;extra\n"
    done = run()
    assert (done.status, done.counts.fetched, done.counts.new, done.counts.rejected) == (
        "ok",
        6,
        4,
        2,
    )
    first, second = store.list_quarantine(done.id or 0)
    assert (first.locator, first.reason) == ("line 4", "name (from 'nom'): missing or empty")
    assert json.loads(first.excerpt) == {"id": "3", "nom": "", "ville": "Toulouse"}
    assert (second.locator, second.reason) == ("line 7", "4 fields where the header has 3")
    assert "extra" in second.excerpt


def test_refused_json_records_are_quarantined_with_their_json_pointer(
    store: Store, context: ReadContext
) -> None:
    pages = {
        "1": [{"id": 1, "name": "Fournil"}, {"id": 2, "name": "Cave"}],
        "2": [{"id": 3, "name": "Primeur"}, {"id": 4, "geo": {"lat": 43.6}}, "not an object"],
    }

    def page(target: RequestTarget) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"result": {"shops": pages.get(target.query["p"], [])}})

    with serve_routes({"/api/shops": page}) as base_url:
        reg = ConnectorRegistration(
            platform="toutoulouse",
            kind="json_api",
            url=f"{base_url}/api/shops",
            mapping={"source_id": "id", "name": "name", "lat": "geo.lat"},
            options={"records_path": "result.shops", "pagination": {"style": "page", "param": "p"}},
        )
        done = Runner(store, context, reg)()
    assert (done.status, done.counts.new, done.counts.rejected) == ("ok", 3, 2)
    missing, not_object = store.list_quarantine(done.id or 0)
    assert missing.locator == "page 2 /result/shops/1"
    assert missing.reason == "name (from 'name'): missing or empty"
    assert json.loads(missing.excerpt) == {"id": 4, "geo": {"lat": 43.6}}
    assert (not_object.locator, not_object.reason) == (
        "page 2 /result/shops/2",
        "the record is not an object",
    )


def test_a_failing_feed_keeps_the_last_good_state_and_records(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    feed, run = csv_feed
    good = run()
    state = store.get_state(run.cid)
    assert state["etag"] == '"v1"'
    before = {r.source_id: r.content_hash for r in store.iter_raw()}

    feed.status = 500
    down = run()
    assert (down.status, down.counts.gone) == ("failed", 0)
    assert "the server answered 500 Internal Server Error" in down.errors[0]

    feed.status, feed.etag = 200, '"v2"'
    feed.body = "identifiant;enseigne\n" + "1;Boutique 1\n" * 3  # the header lost a mapped column
    broken = run()
    assert broken.status == "failed"
    assert "column 'nom' mapped to name is not in the CSV header" in broken.errors[0]

    assert store.get_state(run.cid) == state
    assert {r.source_id: r.content_hash for r in store.iter_raw()} == before
    assert store.last_good_run(run.cid) == store.list_runs(run.cid)[-1] and good.status == "ok"
    feed.etag = '"v1"'  # the last good state is what the next run asks with
    unchanged = run()
    assert (unchanged.status, unchanged.counts.fetched, unchanged.counts.gone) == ("ok", 0, 0)


def test_stored_hashes_are_the_content_hash_earlier_versions_stored(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    """``apply`` encodes each record once; its hashes must stay those already in stores, or the
    first run after an upgrade would see every record as changed."""
    feed, run = csv_feed
    feed.body = "id;nom;ville\n1;Crêperie « Ty Breizh »;Toulouse\n2;Cave; Blagnac \n"
    run()
    stored = list(store.iter_raw())
    assert len(stored) == 2
    for record in stored:
        assert record.content_hash == content_hash(
            {"payload": record.payload, "record": record.record}
        )
    feed.etag = '"v2"'
    assert run().counts.unchanged == 2


def test_an_unchanged_feed_between_runs_does_not_lower_the_bar(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    """A 304 run reads nothing; the next truncated refresh must still be measured against the
    records live, not against that empty run."""
    feed, run = csv_feed
    run()
    assert run().counts.fetched == 0  # 304 Not Modified
    feed.body, feed.etag = shops_csv(range(1, 3)), '"v2"'
    shrunk = run()
    assert (shrunk.status, shrunk.counts.gone) == ("partial", 0)
    assert store.count_raw(run.cid) == 10


def test_a_feed_still_truncated_is_still_flagged(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    """The run the guard stopped does not keep the truncated feed's ETag: the next run reads
    the feed again (no 304) and is stopped again."""
    feed, run = csv_feed
    run()
    feed.body, feed.etag = shops_csv(range(1, 3)), '"v2"'
    assert run().status == "partial"
    assert store.get_state(run.cid)["etag"] == '"v1"'
    again = run()
    assert (again.status, again.counts.fetched, again.counts.gone) == ("partial", 2, 0)
    assert store.count_raw(run.cid) == 10


def test_a_first_refresh_writes_its_stamp_and_the_next_ones_mark_what_they_missed(
    csv_feed: tuple[Feed, Runner], store: Store
) -> None:
    """A refresh whose new records are all the connector has live marks nothing gone without
    looking (only its stamp is written); any other refresh compares what it saw."""
    import sqlalchemy as sa

    from aggregator import schema as t

    feed, run = csv_feed
    first = run()
    assert (first.status, first.counts.new, first.counts.gone) == ("ok", 10, 0)
    with store.engine.connect() as conn:
        stamp = conn.execute(
            sa.select(t.refresh_stamps.c.started_at).where(
                t.refresh_stamps.c.connector_id == run.cid
            )
        ).scalar_one()
    assert stamp.replace(tzinfo=None) == first.started_at.replace(tzinfo=None)
    # One record changed and one new: eleven live, one new; nothing missed, nothing gone.
    feed.body, feed.etag = shops_csv(range(1, 12)).replace("Boutique 5;", "Boutique V;"), '"v2"'
    grown = run()
    assert (grown.counts.new, grown.counts.changed, grown.counts.gone) == (1, 1, 0)
    feed.body, feed.etag = shops_csv(range(2, 12)).replace("Boutique 5;", "Boutique V;"), '"v3"'
    missed = run()
    assert (missed.counts.unchanged, missed.counts.gone) == (10, 1)
    assert store.count_raw(run.cid) == 10
    # The gone record back and one more new (two new, twelve live), then one missed again.
    feed.body, feed.etag = shops_csv(range(1, 13)), '"v4"'
    back = run()
    assert (back.counts.new, back.counts.changed, back.counts.gone) == (2, 1, 0)
    feed.body, feed.etag = shops_csv(range(1, 12)), '"v5"'
    assert run().counts.gone == 1 and store.count_raw(run.cid) == 11


def test_records_another_connector_holds_unchanged_do_not_count_as_the_connectors_own(
    store: Store, context: ReadContext
) -> None:
    """A connector's refresh that sees, unchanged, records another connector of its platform
    wrote leaves them to that connector; its own records it did not see are gone, even when
    it saw as many keys as it has live."""
    first, second = Feed(shops_csv(range(1, 11))), Feed(shops_csv(range(11, 15)))
    with serve_routes({"/a.csv": first, "/b.csv": second}) as base_url:
        a, b = (
            Runner(store, context, ConnectorRegistration(
                id=name, platform="toutoulouse", kind="csv", url=f"{base_url}/{name}.csv",
                mapping=MAPPING,
            ))
            for name in ("a", "b")
        )  # fmt: skip
        assert a().counts.new == 10 and b().counts.new == 4
        # Three of a's records, unchanged, and one of b's own: four keys, as many as b has live.
        second.body, second.etag = shops_csv(range(1, 4)) + "11;Boutique 11;Toulouse\n", '"v2"'
        again = b()
        assert (again.status, again.counts.unchanged, again.counts.gone) == ("ok", 4, 3)
    assert store.count_raw("b") == 1 and store.count_raw("a") == 10


def test_a_records_json_is_its_json_dump() -> None:
    """``record_json`` gives the model's ``model_dump(mode="json")``, whatever the record holds."""
    from aggregator.models import OfferRecord, ShopRecord
    from aggregator.pipeline import record_json

    shops = [
        ShopRecord(platform="p", source_id="1", name="Épi", lat=43.6, lon=-0.0, services=["a"]),
        ShopRecord(platform="p", source_id="2", name="x", lat=1, closed=True),  # an int given
        ShopRecord.model_construct(platform="p", source_id="3", name="y", services=("a", "b")),
        ShopRecord.model_construct(platform="p", source_id="4", name="z", lat=float("nan")),
    ]
    offers = [
        OfferRecord(platform="p", source_id="o", title="Pain", price=2, shop_source_id="1"),
        OfferRecord(platform="p", source_id="o", title="Pain", price=1.5e-7),
    ]
    with warnings.catch_warnings():  # pydantic warns of the tuple built around validation
        warnings.simplefilter("ignore", UserWarning)
        for record in [*shops, *offers]:
            assert repr(record_json(record)) == repr(record.model_dump(mode="json"))

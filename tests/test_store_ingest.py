"""Bulk ingest on SQLite and PostgreSQL: hashes as the record's JSON defines them, counts, gone
records worked out in SQL, and rows written earlier row by row read as unchanged."""

from __future__ import annotations

import hashlib
import random
import struct
from datetime import UTC
from typing import Any

import orjson
import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import ConnectorRegistration, RecordType, RunCounts, content_hash, utcnow
from aggregator.store import IngestBatch, Store
from aggregator.store.ingest import SURROGATES, _plain, encode

Item = tuple[RecordType, str, str, dict, dict]

#: Payloads as feeds send them: accents, emoji, escapes, floats, nesting, key order, NUL.
PAYLOADS: list[dict] = [
    {"id": "1", "nom": "Boulangerie Épi d'Or", "lat": 43.6045, "lon": 1.444, "note": 4.5},
    {"z": [1, 2.0, 1e16, -0.0, 1.5e-7], "a": {"b": None, "a": True}, "é": '😀 "q" \\ /'},
    {"texte": "ligne\nsuivante\ttab\x00nul\u2028sep", "n": 12345678901234567890},
    {"id": "4", "vide": "", "liste": [], "objet": {}},
]


def shop(source_id: str, name: str, payload: dict | None = None) -> Item:
    record = {"platform": "toutoulouse", "source_id": source_id, "name": name}
    payload = {"id": source_id, "nom": name} if payload is None else payload
    return (RecordType.shop, "toutoulouse", source_id, payload, record)


def offer(source_id: str, shop_id: str) -> Item:
    record = {"platform": "toutoulouse", "source_id": source_id, "shop_source_id": shop_id}
    return (RecordType.offer, "toutoulouse", source_id, {"sku": source_id}, record)


def apply(store: Store, items: list[Item], seen: set | None = None) -> RunCounts:
    counts = RunCounts()
    store.apply(IngestBatch("c", list(items)), counts, set() if seen is None else seen)
    return counts


#: Values only the encoder sees (neither store takes NaN in JSON): the same bytes all the same.
ODD = {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "when": utcnow(), "t": (1, "é")}


def test_hash_is_the_records_json_hash_byte_for_byte() -> None:
    for payload in [*PAYLOADS, ODD]:
        record = {"name": "Épicerie", "lat": 43.6, "tags": ["bio", "vrac"]}
        payload_json, record_json, digest = encode(payload, record)
        assert digest == content_hash({"payload": payload, "record": record})
        assert payload_json == t_dumps(payload) and record_json == t_dumps(record)
    # A lone surrogate as received cannot be stored: the hash is of what is (as before).
    payload_json, _, digest = encode({"ligne": "\ud800 seul"}, {"name": "x"})
    assert payload_json == '{"ligne":"\ufffd seul"}'
    assert digest == content_hash({"payload": {"ligne": "\ufffd seul"}, "record": {"name": "x"}})


def test_hash_bytes_on_varied_records_whichever_encoder_writes_them() -> None:
    """orjson (when installed) writes most records: the bytes must still be those of
    ``json.dumps``, or every stored record would look changed on the next run."""
    rng = random.Random(12)
    texts = ["Épicerie", "😀", "null", "nullement", "e-", "1e-05", "0.00001", "", "\x7f\u2028",
             '"\\/', "\ud800", "\x00\t\n", "\uffff", "Ωmega"]  # fmt: skip
    keys = ["a", "B", "é", "😀", "\uffff", "_", "10", "9", "a b", "Z"]

    def value(depth: int) -> Any:
        pick = rng.randrange(12 if depth < 3 else 8)
        if pick == 0:
            return rng.choice(texts)
        if pick == 1:
            return rng.choice([None, True, False, 0, -1, 2**63, 2**64, -(2**63) - 1, 10**30])
        if pick == 2:  # floats of every size, as written by feeds and as computed
            return rng.choice(
                [1.0, -0.0, 0.1, 43.604512, 1e16, 1e-4, 9.9e-5, 1e-7, 1.5e-300, NAN, INF, -INF]
            )
        if pick == 3:
            return float(f"{rng.random() * 10:.{rng.randrange(1, 17)}f}e{rng.randint(-12, 22)}")
        if pick == 4:
            return struct.unpack("d", rng.randbytes(8))[0]  # NaN and infinities now and then
        if pick == 5:
            return rng.choice(texts) + str(rng.random())
        if pick in (6, 7):
            return rng.choice([utcnow(), (1, "é"), Label("étiquette"), 3.5, None])
        if pick in (8, 9):
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randrange(5))}

    for _ in range(3000):
        payload = {rng.choice(keys): value(0) for _ in range(rng.randrange(8))}
        record = {rng.choice(keys): value(1) for _ in range(rng.randrange(8))}
        try:
            expected = content_hash({"payload": payload, "record": record})
            record_text = t_dumps(record)
            record_text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a record: refused, as ever
            continue
        payload_json, record_json, digest = encode(payload, record)
        payload_text = t_dumps(payload)
        if SURROGATES.search(payload_text):
            payload_text = SURROGATES.sub("\ufffd", payload_text)
            expected = hashlib.sha256(
                ('{"payload":' + payload_text + ',"record":' + record_text + "}").encode()
            ).hexdigest()
        assert (payload_json, record_json, digest) == (payload_text, record_text, expected)


def test_orjson_writes_only_records_whose_types_it_writes_as_json_dumps() -> None:
    """Random records of the types ``_plain`` admits come out of orjson as ``json.dumps``'s
    bytes; each value it turns away would not (orjson writes it otherwise, or refuses it), so
    dropping any guard would change a stored hash."""
    rng = random.Random(31)
    texts = ["Épicerie", "😀", "\x00\t\n\x1f\x7f", '"\\/', "\u2028\uffff", "", "e-5", "null"]

    def value(depth: int) -> Any:
        pick = rng.randrange(7 if depth < 3 else 5)
        if pick == 0:
            return rng.choice(texts) + str(rng.randrange(100))
        if pick == 1:
            return rng.choice([None, True, False, 0, -1, 2**63, 2**64 - 1, -(2**63)])
        if pick == 2:  # zero, and floats of every size from 1e-4 up
            return rng.choice([0.0, -0.0, 1e-4, 43.604512, 1e16, 1.5e300]) * rng.choice([1, -1])
        if pick in (3, 4):
            return float(f"{rng.random() * 10:.{rng.randrange(1, 17)}f}e{rng.randint(-3, 300)}")
        if pick == 5:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {rng.choice(texts): value(depth + 1) for _ in range(rng.randrange(5))}

    for _ in range(5000):
        record = {rng.choice(texts): value(0) for _ in range(rng.randrange(1, 10))}
        assert _plain(record)
        assert orjson.dumps(record, option=orjson.OPT_SORT_KEYS) == t_dumps(record).encode()
        assert encode(record, record)[0] == t_dumps(record)
    turned_away = [9.9e-5, -1e-7, 3e-9, NAN, INF, -INF, utcnow(), Label("x"), [Label("x")],
                   {"a": {"b": 1e-5}}, 2**64, -(2**63) - 1]  # fmt: skip
    for odd in turned_away:
        record = {"a": odd}
        assert not _plain(record) or isinstance(odd, int)  # big integers: orjson refuses
        try:
            differs = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) != t_dumps(record).encode()
        except TypeError:
            differs = True
        assert differs or isinstance(odd, (Label, list)), odd
        assert encode(record, record)[0] == t_dumps(record)
    assert not _plain({Label("a"): 1}) and not _plain({"a": (1, 2)})


NAN, INF = float("nan"), float("inf")


class Label(str):
    """A ``str`` subclass, as a library might hand one over."""


def t_dumps(data: dict) -> str:
    """The encoding the stored hash has always been taken of (``models.content_hash``)."""
    import json

    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def test_rows_written_row_by_row_before_read_as_unchanged(store: Store) -> None:
    """Rows stored by the earlier per-row code (SQLAlchemy Core, the model's hash) are
    unchanged for the bulk path: not rewritten, not counted changed."""
    now = utcnow()
    with store.engine.begin() as conn:
        for i, payload in enumerate(PAYLOADS):
            _, _, sid, _, record = shop(str(i), f"Shop {i}", payload)
            conn.execute(
                t.raw_records.insert().values(
                    platform="toutoulouse", record_type="shop", source_id=sid,
                    connector_id="c", payload=payload, record=record,
                    content_hash=content_hash({"payload": payload, "record": record}),
                    first_seen=now, last_seen=now, last_changed=now,
                )
            )  # fmt: skip
    items = [shop(str(i), f"Shop {i}", payload) for i, payload in enumerate(PAYLOADS)]
    counts = apply(store, items)
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, len(PAYLOADS))
    stored = store.get_raw("toutoulouse", "0")
    assert stored is not None and stored.last_changed == now


def test_counts_over_many_batches_duplicates_and_returns(store: Store) -> None:
    seen: set = set()
    first = [shop(str(i), f"Shop {i}") for i in range(2500)] + [offer("o1", "7")]
    counts = RunCounts()
    for start in range(0, len(first), 1000):
        store.apply(IngestBatch("c", first[start : start + 1000]), counts, seen)
    assert (counts.new, counts.changed, counts.unchanged) == (2501, 0, 0)
    assert len(seen) == 2501
    assert store.get_raw("toutoulouse", "o1", RecordType.offer).record["shop_source_id"] == "7"

    # One batch: a key twice unchanged, a key changed then changed again, a new key twice.
    counts = apply(
        store,
        [shop("1", "Shop 1"), shop("1", "Shop 1"), shop("2", "Deux"), shop("2", "Deux bis"),
         shop("n", "Nouveau"), shop("n", "Nouveau")],
    )  # fmt: skip
    assert (counts.new, counts.changed, counts.unchanged) == (1, 2, 3)
    assert store.get_raw("toutoulouse", "2").record["name"] == "Deux bis"
    # Changes of two record types in one batch (PostgreSQL: one temporary table for both).
    counts = apply(store, [shop("3", "Trois"), offer("o1", "8")])
    assert (counts.new, counts.changed, counts.unchanged) == (0, 2, 0)
    assert store.get_raw("toutoulouse", "o1", RecordType.offer).record["shop_source_id"] == "8"
    assert store.get_raw("toutoulouse", "3").record["name"] == "Trois"

    keep = {("toutoulouse", "shop", str(i)) for i in range(2400)} | {("toutoulouse", "shop", "n")}
    before = store.get_raw("toutoulouse", "5")
    assert store.mark_gone("c", keep) == 101  # 100 shops and the offer
    assert store.count_raw("c") == 2401
    assert store.get_raw("toutoulouse", "2450").gone_at is not None
    after = store.get_raw("toutoulouse", "5")
    assert after.last_seen > before.last_seen and after.last_changed == before.last_changed
    assert store.mark_gone("c", keep) == 0  # already gone: not counted again

    counts = apply(store, [shop("2450", "Shop 2450"), shop("2451", "Autre nom")])
    assert (counts.new, counts.changed, counts.unchanged) == (2, 0, 0)  # back, as it was or not
    back = store.get_raw("toutoulouse", "2451")
    assert back.gone_at is None and back.record["name"] == "Autre nom"


def test_gone_sees_only_the_connectors_records(store: Store) -> None:
    apply(store, [shop("1", "A"), shop("2", "B")])
    other = IngestBatch("other", [(RecordType.shop, "ailleurs", "1", {"id": "1"}, {"n": 1})])
    store.apply(other, RunCounts(), set())
    assert store.mark_gone("c", set()) == 2
    assert store.mark_gone("c", set()) == 0
    assert store.count_raw("other") == 1
    with store.engine.connect() as conn:
        live = conn.scalar(sa.select(sa.func.count()).where(t.raw_records.c.gone_at.is_(None)))
    assert live == 1


def test_a_refresh_stamps_last_seen_only_on_records_it_did_not_write(store: Store) -> None:
    """Records a run wrote were seen when written; the unchanged ones it saw are stamped."""
    apply(store, [shop("1", "Un"), shop("2", "Deux")])
    earlier = store.get_raw("toutoulouse", "1")
    started, seen = utcnow(), set()
    counts = apply(store, [shop("1", "Un"), shop("2", "Deux bis")], seen)
    assert (counts.changed, counts.unchanged) == (1, 1)
    written = store.get_raw("toutoulouse", "2")
    assert store.mark_gone("c", seen, since=started) == 0
    one, two = store.get_raw("toutoulouse", "1"), store.get_raw("toutoulouse", "2")
    assert one.last_seen > written.last_seen > earlier.last_seen
    assert one.last_changed == earlier.last_changed
    assert two.last_seen == written.last_seen and two.last_changed == written.last_changed


def test_a_record_gone_later_keeps_when_an_earlier_refresh_saw_it(store: Store) -> None:
    """The refresh stamp stands for a write on each record it saw: a record marked gone by a
    later refresh, or whose connector is deleted, still says the earlier refresh saw it."""
    apply(store, [shop("1", "Un"), shop("2", "Deux"), shop("3", "Trois")])
    written = store.get_raw("toutoulouse", "3")
    keys = {("toutoulouse", "shop", k) for k in ("1", "2", "3")}
    assert store.mark_gone("c", keys, since=utcnow()) == 0
    first = {r.source_id: r.last_seen for r in store.iter_raw()}
    assert first["1"] == first["3"] > written.last_seen
    assert store.mark_gone("c", keys - {("toutoulouse", "shop", "3")}, since=utcnow()) == 1
    gone = store.get_raw("toutoulouse", "3")
    assert gone.gone_at is not None and gone.last_seen == first["3"]
    (one,) = store.get_raw_many([("toutoulouse", "1")])
    assert (
        one.last_seen > first["1"] and one.last_seen == store.get_raw("toutoulouse", "2").last_seen
    )
    assert {r.source_id: r.last_seen for r in store.iter_raw(include_gone=True)}["3"] == first["3"]
    with store.engine.begin() as conn:  # as a deleted connector's records are marked gone
        live = t.raw_records.c.gone_at.is_(None)
        conn.execute(t.raw_records.update().where(live).values(gone_at=utcnow()))
    assert store.get_raw("toutoulouse", "1").last_seen == one.last_seen
    assert store.get_raw("toutoulouse", "3").last_seen == first["3"]


def test_a_downgrade_writes_the_refresh_stamps_out_on_the_records(store: Store) -> None:
    """Below 0012 ``last_seen`` is read from the records alone: the stamps are written on them."""
    from alembic import command

    from aggregator.store.base import _alembic_config

    apply(store, [shop("1", "Un"), shop("2", "Deux")])
    store.mark_gone("c", {("toutoulouse", "shop", "1"), ("toutoulouse", "shop", "2")}, utcnow())
    store.mark_gone("c", {("toutoulouse", "shop", "1")}, since=utcnow())
    read = {r.source_id: r.last_seen for r in store.iter_raw(include_gone=True)}
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    assert "refresh_stamps" not in sa.inspect(store.engine).get_table_names()
    with store.engine.connect() as conn:
        c = t.raw_records.c
        written = dict(conn.execute(sa.select(c.source_id, c.last_seen)).all())
    assert {k: v if v.tzinfo else v.replace(tzinfo=UTC) for k, v in written.items()} == read
    store.migrate()
    assert {r.source_id: r.last_seen for r in store.iter_raw(include_gone=True)} == read


def test_deleting_a_connector_writes_its_refresh_stamp_on_its_records(store: Store) -> None:
    """The records stay, with what was seen of them; a later registration under the same id
    starts without the old stamp."""
    cid = store.save_connector(
        ConnectorRegistration.model_validate(
            {
                "platform": "toutoulouse",
                "kind": "csv",
                "url": "/tmp/shops.csv",
                "mapping": {"source_id": "id", "name": "name"},
            }
        ),
        origin="cli",
    )
    batch = [(RecordType.shop, "toutoulouse", k, {"id": k, "name": k}, {"n": k}) for k in "12"]
    seen: set = set()
    store.apply(IngestBatch(cid, batch), RunCounts(), seen)
    store.mark_gone(cid, seen, since=utcnow())
    store.apply(IngestBatch(cid, batch), RunCounts(), seen)
    store.mark_gone(cid, seen, since=utcnow())
    read = {r.source_id: r.last_seen for r in store.iter_raw()}
    store.delete_connector(cid)
    with store.engine.connect() as conn:
        stamps = conn.scalar(sa.select(sa.func.count()).select_from(t.refresh_stamps))
        c = t.raw_records.c
        written = dict(conn.execute(sa.select(c.source_id, c.last_seen)).all())
    assert stamps == 0
    assert {k: v if v.tzinfo else v.replace(tzinfo=UTC) for k, v in written.items()} == read
    assert {r.source_id: r.last_seen for r in store.iter_raw()} == read


def test_stored_json_is_the_encoded_text_on_new_and_changed_records(store: Store) -> None:
    """New and changed records hold their payload and record as text (SQLite is sent their
    UTF-8 bytes, made text by the statement), equal to ``encode``'s and read back as written;
    a lone surrogate in a payload is stored replaced, as before."""
    surrogate = {"id": "s", "nom": "demi \ud800 caractère"}
    items = [shop(str(i), f"Shop {i}", payload) for i, payload in enumerate(PAYLOADS)]
    apply(store, [*items, shop("s", "Demi", surrogate)])
    changed = [shop(str(i), f"Autre {i}", payload) for i, payload in enumerate(PAYLOADS)]
    counts = apply(store, changed)
    assert (counts.new, counts.changed, counts.unchanged) == (0, len(PAYLOADS), 0)
    text = "CAST(payload AS TEXT), CAST(record AS TEXT)"
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            types = conn.exec_driver_sql(
                "SELECT DISTINCT typeof(payload), typeof(record) FROM raw_records"
            ).all()
            assert types == [("text", "text")]
        for _, _, sid, payload, record in [*changed, shop("s", "Demi", surrogate)]:
            stored = conn.execute(
                sa.text(f"SELECT {text} FROM raw_records WHERE source_id = :s"), {"s": sid}
            ).one()
            payload_json, record_json, _ = encode(payload, record)
            assert tuple(stored) == (payload_json, record_json)  # JSON, not JSONB: as sent
            assert store.get_raw("toutoulouse", sid).record == orjson.loads(record_json)
    assert store.get_raw("toutoulouse", "s").payload["nom"] == "demi \ufffd caractère"

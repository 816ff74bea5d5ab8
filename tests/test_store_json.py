"""Stored JSON read back as written, on SQLite and PostgreSQL: the store reads it with orjson
where that gives the same value, and with the standard library where orjson would not."""

from __future__ import annotations

import json

from aggregator.models import RecordType, RunCounts
from aggregator.store import IngestBatch, Store
from aggregator.store.base import json_loads

#: Values orjson alone would read otherwise: an integer past 64 bits (a float, rounded).
RECORD = {
    "platform": "toutoulouse",
    "source_id": "12345678901234567890123",
    "name": 'Épicerie 😀 "q" \\ /',
    "siret": 123456789012345678901234567890,
    "lat": 43.6045,
    "tiny": 1.5e-7,
    "tags": ["bio", "vrac"],
}
PAYLOAD = {"id": 98765432109876543210, "nom": "Épicerie", "z": [1, 2.0, 1e16, -0.0]}


def test_json_loads_reads_as_the_standard_library() -> None:
    texts = [
        json.dumps(RECORD),
        json.dumps(PAYLOAD),
        '{"a": NaN, "b": Infinity}',
        '{"a": 1, "a": 2}',
        '"\\ud800 seul"',
        "[1e400, -0.0, 0.1]",
    ]
    for text in texts:
        expected = repr(json.loads(text))
        assert repr(json_loads(text)) == expected, text
        assert repr(json_loads(text.encode())) == expected, text
        assert repr(json_loads(memoryview(text.encode()))) == expected, text
    big = json_loads(json.dumps(RECORD))
    assert big["siret"] == 123456789012345678901234567890 and isinstance(big["siret"], int)


def test_stored_records_and_payloads_read_back_exactly(store: Store) -> None:
    item = (RecordType.shop, "toutoulouse", RECORD["source_id"], PAYLOAD, RECORD)
    store.apply(IngestBatch("c", [item]), RunCounts(), set())
    [[(record, _digest, _changed)]] = list(store.iter_live_records(RecordType.shop))
    assert record == RECORD
    assert isinstance(record["siret"], int)
    [stored] = list(store.iter_raw(RecordType.shop))
    assert stored.payload == PAYLOAD and isinstance(stored.payload["id"], int)
    assert stored.record == RECORD

"""Incremental matching: new, changed and removed records give what a full recompute gives.

A full recompute here uses the state's model and resolved blocking rules (a state fixes them at
its first run) and the ids the state held before the update, as the pipeline would pass them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from aggregator.models import Decision, RecordKey, ShopRecord, Verdict
from benchmarks.dedupe_data import COLUMNS, generate
from dedupe import MatchConfig, MatchResult, ShopTable, match_shops, match_table, update

N = 4000


def table_of(columns: dict[str, list[Any]], rows: list[int]) -> ShopTable:
    return ShopTable({name: [columns[name][r] for r in rows] for name in COLUMNS})


def mutate(rng: random.Random, columns: dict[str, list[Any]], row: int) -> dict[str, Any]:
    changed = {name: columns[name][row] for name in COLUMNS}
    roll = rng.random()
    if roll < 0.25:
        changed["phone"] = None
    elif roll < 0.5:
        changed["name"] = f"{changed['name']} Bio"
    elif roll < 0.7:
        changed["address"] = None
    elif roll < 0.85:
        changed["lat"] = changed["lon"] = None
    else:
        changed["postcode"] = "99999"
    return changed


def full_recompute(result: MatchResult, previous: dict[str, str], decisions=()) -> MatchResult:  # noqa: ANN001
    """Match the state's live records from scratch, with its model and blocking rules."""
    state = result.state
    rows = [r for r in range(len(state.table)) if state.alive[r]]
    columns = {name: [state.table.value(name, r) for r in rows] for name in COLUMNS}
    config = MatchConfig(model=state.model, blocking=state.rules)
    return match_table(ShopTable(columns), decisions, previous, config)


def same(a: MatchResult, b: MatchResult) -> None:
    """Same entities: members, ids, golden records; same review pairs."""
    assert a.assignments() == b.assignments()
    dump = {e.entity_id: e.model_dump(mode="json") for e in a.entities}
    assert dump == {e.entity_id: e.model_dump(mode="json") for e in b.entities}
    pairs = sorted((str(c.a), str(c.b), round(c.probability, 9)) for c in a.candidates)
    assert pairs == sorted((str(c.a), str(c.b), round(c.probability, 9)) for c in b.candidates)
    # The explanations too: an update re-explains only its new pairs, keeps the others'.
    explained = {(str(c.a), str(c.b)): c.explanation for c in a.candidates}
    assert explained == {(str(c.a), str(c.b)): c.explanation for c in b.candidates}


@pytest.fixture(scope="module")
def data() -> Any:
    return generate(N, seed=5)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_recompute(data: Any, seed: int) -> None:
    rng = random.Random(seed)
    columns = data.columns
    order = list(range(N))
    rng.shuffle(order)
    later, gone, changed = order[:400], order[400:480], order[480:680]
    base = sorted(set(range(N)) - set(later))
    result = match_table(table_of(columns, base), config=MatchConfig(estimate=False))
    for step in range(2):  # two successive updates, each checked
        previous = {str(k): v for k, v in result.assignments().items()}
        new_rows = later[step * 200 : (step + 1) * 200]
        upserts = table_of(columns, new_rows)
        edits = [mutate(rng, columns, r) for r in changed[step * 100 : (step + 1) * 100]]
        upserts.extend(ShopTable({name: [e[name] for e in edits] for name in COLUMNS}))
        removed = [f"{columns['platform'][r]}:{columns['source_id'][r]}" for r in gone[step::2]]
        result = update(result, upserts, removed)
        assert result.changed and result.stats["records"] == len(base) + 200 * (step + 1) - 40 * (
            step + 1
        )
        same(result, full_recompute(result, previous))


def test_decisions_act_incrementally(data: Any) -> None:
    columns = data.columns
    result = match_table(table_of(columns, list(range(1500))), config=MatchConfig(estimate=False))
    groups: dict[str, list[RecordKey]] = {}
    for key, entity_id in result.assignments().items():
        groups.setdefault(entity_id, []).append(key)
    merged = next(keys for keys in groups.values() if len(keys) >= 2)
    alone = [keys[0] for keys in groups.values() if len(keys) == 1][:2]
    decisions = [
        Decision(a=merged[0], b=merged[1], verdict=Verdict.cannot_link, reviewer="cci"),
        Decision(a=alone[0], b=alone[1], verdict=Verdict.must_link, reviewer="cma"),
    ]
    previous = {str(k): v for k, v in result.assignments().items()}
    result = update(result, decisions=decisions)
    ids = result.assignments()
    assert ids[merged[0]] != ids[merged[1]]
    assert ids[alone[0]] == ids[alone[1]]
    same(result, full_recompute(result, previous, decisions))


def test_a_shared_identifier_appearing_is_handled_incrementally() -> None:
    """A phone that becomes a switchboard (21 holders) stops linking: the records it linked
    are re-examined, as a full run would."""
    base = [
        ShopRecord(platform="a", source_id=str(i), name=f"Boutique {w}", phone="05 61 00 00 01")
        for i, w in enumerate(["Alpha", "Alpha"])
    ]
    result = match_shops(base, estimate=False)
    assert len(result.entities) == 1
    previous = {str(k): v for k, v in result.assignments().items()}
    crowd = [
        ShopRecord(platform="b", source_id=str(i), name=f"Shop {i}", phone="05 61 00 00 01")
        for i in range(20)
    ]
    result = update(result, crowd)
    assert len(result.entities) == 22  # the phone no longer identifies anyone
    same(result, full_recompute(result, previous))
    result = update(result, removed=[f"b:{i}" for i in range(20)])
    assert len(result.entities) == 1  # a phone again: the two records merge back


def test_a_word_becoming_common_re_enters_its_holders() -> None:
    """A name word held by more records than the common limit (30 here) stops being a blocking
    key: the records that held it before the update are found (by the word's rows, not by
    reading every name) and re-enter with the keys a full run gives them."""

    def shops(prefix: str, count: int) -> list[ShopRecord]:
        return [
            ShopRecord(
                platform=prefix,
                source_id=str(i),
                name=f"Zorglub {prefix}{i} Maison",
                postcode=f"310{i % 10:02d}",
                city="Toulouse",
            )
            for i in range(count)
        ]

    others = [ShopRecord(platform="o", source_id=str(i), name=f"Atelier {i}") for i in range(40)]
    result = match_shops([*shops("a", 25), *others], estimate=False)
    state = result.state
    assert state.rules.common_limit == 30 and hash("zorglub") not in state.common
    holders = [state.row_of[f"a:{i}"] for i in range(25)]
    previous = {str(k): v for k, v in result.assignments().items()}
    result = update(result, shops("b", 10))
    state = result.state
    assert hash("zorglub") in state.common
    assert not state.alive[holders].any()  # re-entered: their old rows died
    same(result, full_recompute(result, previous))
    # The word index finds what a scan of every name finds.
    wanted = {hash("zorglub"), hash("maison"), hash("a3")}
    scan = [
        r
        for r in range(len(state.table))
        if wanted & set(map(hash, state.prepared.names[r].split()))
    ]
    assert state.word_rows.holding(wanted).tolist() == scan


def test_ids_do_not_move_when_an_unrelated_record_comes_or_goes(data: Any) -> None:
    columns = data.columns
    rows = list(range(2000))
    first = match_table(table_of(columns, rows), config=MatchConfig(estimate=False))
    before = {str(k): v for k, v in first.assignments().items()}
    newcomer = ShopTable(
        {"platform": ["zz"], "source_id": ["1"], "name": ["Quincaillerie Zéphyr"],
         "postcode": ["12345"], "phone": ["05 99 99 99 99"]}
    )  # fmt: skip
    added = update(first, newcomer)
    after = {str(k): v for k, v in added.assignments().items()}
    assert {k: v for k, v in after.items() if k != "zz:1"} == before
    removed = update(added, removed=["zz:1"])
    assert {str(k): v for k, v in removed.assignments().items()} == before
    # A full run with the record, without previous ids: the others' ids are the same too.
    again = match_table(table_of(columns, rows), config=MatchConfig(estimate=False))
    again_ids = {str(k): v for k, v in again.assignments().items()}
    assert again_ids == before


def test_ids_do_not_depend_on_record_order(data: Any) -> None:
    rows = list(range(1500))
    reference = match_table(table_of(data.columns, rows), config=MatchConfig(estimate=False))
    shuffled = rows[:]
    random.Random(4).shuffle(shuffled)
    other = match_table(table_of(data.columns, shuffled), config=MatchConfig(estimate=False))
    assert reference.assignments() == other.assignments()


def test_unknown_removals_and_empty_updates_change_nothing(data: Any) -> None:
    result = match_table(table_of(data.columns, list(range(300))), config=MatchConfig())
    before = result.assignments()
    again = update(result, removed=["nowhere:1"])
    assert again.assignments() == before and not again.changed and not again.removed


def test_recency_reaches_golden_records_of_incremental_runs() -> None:
    older = ShopRecord(platform="t", source_id="a", name="Fleurs de Marie", phone="0561000001")
    newer = ShopRecord(platform="c", source_id="b", name="Fleurs de Marie", phone="0561000001")
    result = match_shops([older], estimate=False)
    dates = {"t:a": datetime(2026, 1, 1, tzinfo=UTC), "c:b": datetime(2026, 3, 1, tzinfo=UTC)}
    result = update(result, [newer], record_dates=dates)
    assert result.entities[0].golden.fields["name"].platform == "c"

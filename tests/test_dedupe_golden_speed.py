"""Golden records' fast paths (one-row clusters, values shown only when a choice needs them,
models made without ``model_construct``) give what the survivorship rules give done plainly."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict
from rapidfuzz.distance import Levenshtein

from aggregator.models import (
    Entity,
    GoldenRecord,
    Listing,
    Provenanced,
    RecordKey,
    ShopRecord,
)
from benchmarks.dedupe_data import generate
from dedupe import MatchConfig, ShopTable, match_shops, match_table
from dedupe.golden.casing import casing_rank, display_city, tidy
from dedupe.golden.records import GoldenBuilder, _median, construct
from dedupe.prepare.columns_of import prepare
from dedupe.prepare.identifiers import normalise_email
from dedupe.prepare.table import TABLE_FIELDS
from dedupe.prepare.values import display_name, street_display

T, C, G, A = "toutoulouse", "clicknco", "geolocal31", "autre"
_TOWN = re.compile(r"\b\d{2}\s?\d{3}\s+(\D.*)$")


def _shop(platform: str, source_id: str, name: str, **fields: Any) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)


#: One shop written many ways (casing, legal forms, one-field addresses, missing values), a
#: second shop, and records sharing nothing: clusters of any of them exercise every rule.
# fmt: off
RECORDS = [
    _shop(T, "1", "SARL BOULANGERIE DU CENTRE", address="12 BIS AV. JEAN JAURÈS",
          postcode="31000", city="TOULOUSE CEDEX 6", phone="05 61 22 33 44",
          category="Boulangerie", lat=43.6062, lon=1.449, services=["click_and_collect"],
          opening_hours="Mo-Sa 07:00-19:30", url="https://t.example/1"),
    _shop(C, "1", "Boulangerie du Centre", address="12B avenue Jean-Jaures",
          postcode="31000", city="Toulouse", phone="+33 5 61 22 33 44",
          category="boulangerie", lat=43.6064, lon=1.4492, website="https://boulangerie.fr/",
          services=["livraison", " click_and_collect "], description="Pain au levain."),
    _shop(G, "1", "boulangerie du centre", address="12 bis avenue Jean Jaurès 31000 Toulouse",
          phone="0561223344", email="Contact@Boulangerie.fr", siret="80112345600015",
          description="Pain  au LEVAIN.", opening_hours="mo-sa 07:00 - 19:30"),
    _shop(A, "1", "Boulangerie du Centre EURL", address="12 bis av Jean Jaures",
          city="toulouse", lat=43.6063, lon=1.4491, services=["livraison"]),
    _shop(T, "2", "L'ÉPICERIE DE LÉA", address="3 r. des Filatiers 31000 TOULOUSE",
          phone="05 62 27 10 10", category="Epicerie fine", email="lea@epicerie.fr"),
    _shop(C, "2", "Epicerie de Lea", address="3 rue des Filatiers", postcode="31000",
          city="Toulouse", phone="0562271010", category="Épicerie", lat=43.6, lon=1.44),
    _shop(G, "2", "épicerie de léa", city="TOULOUSE", website="https://epicerie-lea.fr",
          email="LEA@epicerie.fr", services=["drive"]),
    _shop(T, "3", "GAEC de la Ferme du Moulin", address="Lieu-dit Le Moulin", city="Condom",
          postcode="32100", siret="12345678900011", lat=43.95, lon=0.37),
    _shop(C, "3", "Ferme du Moulin", address="LIEU-DIT LE MOULIN", city="CONDOM", lat=43.96,
          lon=0.38, description="Volailles."),
    _shop(A, "4", "SNCF BOUTIQUE", address="   ", city="  ", phone="0100000000"),
    _shop(G, "5", "Fleurs de Marie", address="7 place du Capitole, 31000", city="31000",
          category="Fleuriste", lat=43.6045, lon=1.4440),
    _shop(A, "5", "FLEURS DE MARIE", address="7 pl. du Capitole", city="Toulouse Cedex",
          category="fleurs", lat=43.6046, lon=1.4441, services=[" ", "retrait"]),
    # A slip of the keys beside "Boulangerie du Centre": a likely typo in a tie.
    _shop(G, "6", "Boulanegrie du Centre", city="Toulouse", phone="05 61 22 33 44"),
]
# fmt: on
PRIORITY = {C: 2, G: 1}
DATES = {
    "toutoulouse:1": datetime(2026, 3, 1, tzinfo=UTC),
    "geolocal31:2": datetime(2026, 1, 1, tzinfo=UTC),
}


#: The fields chosen by agreement, in the order golden records list them.
TEXT_FIELDS = ("name", "address", "postcode", "city", "phone", "email", "website", "siret",
               "category", "description", "opening_hours")  # fmt: skip


class Reference:
    """The survivorship rules as ``dedupe.golden.records`` states them, done plainly: every member's
    value shown, grouped, the biggest group's best spelling (numpy's median for the point)."""

    def __init__(self, builder: GoldenBuilder) -> None:
        self.b, self.t, self.p = builder, builder.table, builder.prepared

    def rank(self, row: int) -> tuple[int, float, str]:
        key = self.t.keys[row]
        return (
            -self.b.priorities.get(self.t.value("platform", row), 0),
            -(self.b.dates[key].timestamp() if key in self.b.dates else 0.0),
            key,
        )

    def candidate(self, field: str, row: int) -> tuple[Any, str] | None:
        t, p = self.t, self.p
        if field == "name":
            key, text = p.names[row], display_name(t.value("name", row))
            return (key, text) if key and text else None
        if field == "address":
            shown = street_display(t.value("address", row))
            if not p.streets[row] or not shown:
                return None
            return (int(p.number[row]), int(p.suffix[row]), p.streets[row]), shown
        if field == "city":
            shown = display_city(t.value("city", row))
            if not shown:
                found = _TOWN.search(t.value("address", row) or "")
                shown = display_city(found.group(1)) if found else None
            return (p.cities[row], shown) if p.cities[row] and shown else None
        if field == "email":
            value = normalise_email(t.value("email", row)) if p.email[row] else None
            return (value, value) if value else None
        if field == "website":
            url, domain = (t.value("website", row) or "").strip(), int(p.domain[row])
            return (domain, url) if url and domain else None
        if field in ("description", "opening_hours"):
            record = t.records[row] if t.records is not None else None
            text = (getattr(record, field, None) or "").strip()
            if not text:
                return None
            if field == "description":
                return " ".join(text.lower().split()), text
            return re.sub(r"\s+", "", text.lower()), text
        code = int(getattr(p, {"phone": "phone1"}.get(field, field))[row])
        if field in ("postcode", "category"):
            shown = f"{code:05d}" if field == "postcode" else p.category_slugs[code]
            return None if code < 0 else (code, shown)
        return (code, f"+{code}" if field == "phone" else f"{code:014d}") if code else None

    def choose(self, rows: Sequence[int], field: str) -> tuple[str, int] | None:
        groups: dict[Any, list[tuple[str, int]]] = {}
        for row in rows:
            found = self.candidate(field, row)
            if found is not None:
                groups.setdefault(found[0], []).append((found[1], row))
        if not groups:
            return None
        best = []
        for members in groups.values():
            uses = Counter(value for value, _ in members)
            if field not in ("name", "address", "city"):
                best.append(
                    min(
                        members,
                        key=lambda m: (
                            casing_rank(m[0]),
                            -uses[m[0]],
                            -len(m[0]),
                            *self.rank(m[1]),
                        ),
                    )
                )
                continue

            # Spellings alike but for case, accents and spacing are one: the one written most
            # (in its best case), then within it accents, case, uses; cased like the best cased.
            def plain(text: str) -> str:
                return "".join(
                    unicodedata.normalize("NFD", c)[0].lower() for c in " ".join(text.split())
                )

            classes: dict[str, list[tuple[str, int]]] = {}
            for m in members:
                classes.setdefault(plain(m[0]), []).append(m)
            folded = min(
                classes,
                key=lambda f: (
                    min(casing_rank(v) for v, _ in classes[f]),
                    -len(classes[f]),
                    -len(f),
                    min(self.rank(r) for _, r in classes[f]),
                ),
            )
            alike = classes[folded]
            value, row = min(
                alike,
                key=lambda m: (
                    -sum(not c.isascii() and c.isalpha() for c in m[0]),
                    casing_rank(m[0]),
                    -uses[m[0]],
                    *self.rank(m[1]),
                ),
            )
            cased = sorted(alike, key=lambda m: (casing_rank(m[0]), -uses[m[0]], *self.rank(m[1])))
            if casing_rank(cased[0][0]) < casing_rank(value):
                model = " ".join(cased[0][0].split())
                value = "".join(
                    c.upper()
                    if k.isupper() and len(c.upper()) == 1
                    else c.lower()
                    if k.islower()
                    else c
                    for c, k in zip(" ".join(value.split()), model, strict=True)
                )
            best.append((value, row))
        sizes = [len(members) for members in groups.values()]
        typo = [False] * len(best)
        if field == "name":  # a likely typo loses a tie between equally big groups
            keys, top = list(groups), max(sizes)
            tied = [g for g in range(len(best)) if sizes[g] == top]
            typo = [g in tied and self.typo(keys, g, tied, top) for g in range(len(best))]
        return best[
            min(
                range(len(best)),
                key=lambda g: (-sizes[g], typo[g], -len(best[g][0]), *self.rank(best[g][1])),
            )
        ]

    def typo(self, keys: list[Any], g: int, tied: list[int], size: int) -> bool:
        if not hasattr(self, "uses"):  # each word once per record, over every record
            self.uses: Counter[str] = Counter()
            for row in range(len(self.p)):
                self.uses.update(set((self.p.names[row] or "").split()))
        uses = self.uses
        own = set(keys[g].split())
        return any(
            len(wrong) >= 4
            and uses[wrong] <= size
            and uses[right] > size
            and Levenshtein.distance(wrong, right) <= (1 if len(right) < 7 else 2)
            for h in tied
            if h != g
            for right in set(keys[h].split()) - own
            for wrong in own
        )

    def fields(self, rows: Sequence[int]) -> dict[str, tuple[Any, int]]:
        out: dict[str, tuple[Any, int]] = {}
        for field in TEXT_FIELDS:
            chosen = self.choose(rows, field)
            if chosen is not None:
                value, row = chosen
                if field == "name" or (field == "address" and casing_rank(value) == 2):
                    value = tidy(value)
                out[field] = (value, row)
        located = [r for r in rows if self.p.lat[r] == self.p.lat[r]]
        if located:
            lat, lon = self.p.lat[located], self.p.lon[located]
            distance = (lat - float(np.median(lat))) ** 2 + (lon - float(np.median(lon))) ** 2
            k = min(range(len(located)), key=lambda k: (distance[k], self.rank(located[k])))
            out["lat"] = (float(self.p.lat[located[k]]), located[k])
            out["lon"] = (float(self.p.lon[located[k]]), located[k])
        records = self.t.records
        with_services = [
            r
            for r in rows
            if records is not None and records[r] is not None and records[r].services
        ]
        if records is not None and with_services:
            services = sorted(
                {s.strip() for r in with_services for s in records[r].services if s.strip()}
            )
            source = min(with_services, key=lambda r: (-len(records[r].services), *self.rank(r)))
            out["services"] = (services, source)
        return out

    def build(self, rows: Sequence[int]) -> GoldenRecord:
        columns = self.t.columns
        return GoldenRecord.model_construct(
            fields={
                name: Provenanced.model_construct(
                    value=value,
                    platform=columns["platform"][row],
                    source_id=columns["source_id"][row],
                )
                for name, (value, row) in self.fields(rows).items()
            },
            chosen={},  # no reviewer's choice: those are laid over afterwards
        )


def _same(made: BaseModel, expected: BaseModel) -> None:
    """Equal, and equal inside: field order, fields set, extras, JSON text."""
    assert type(made) is type(expected)
    assert made == expected
    assert list(made.__dict__) == list(expected.__dict__)
    assert made.model_fields_set == expected.model_fields_set
    assert made.__pydantic_extra__ == expected.__pydantic_extra__
    assert made.__pydantic_private__ == expected.__pydantic_private__
    assert made.model_dump_json() == expected.model_dump_json()
    for name, value in made.__dict__.items():
        other = expected.__dict__[name]
        pairs = zip(value, other, strict=True) if isinstance(value, list) else [(value, other)]
        if isinstance(value, dict):
            assert list(value) == list(other)
            pairs = zip(value.values(), other.values(), strict=True)
        for a, b in pairs:
            if isinstance(a, BaseModel):
                _same(a, b)


def _clusters(n: int, seed: int = 7) -> list[list[int]]:
    """Every cluster of one, two and three rows, and random bigger ones."""
    rng = random.Random(seed)
    out = [list(c) for size in (1, 2, 3) for c in itertools.combinations(range(n), size)]
    out += [rng.sample(range(n), rng.randint(4, n)) for _ in range(150)]
    return out


@pytest.mark.parametrize("records", [True, False], ids=["records", "table"])
@pytest.mark.parametrize("ranking", ["plain", "priority+dates"])
def test_fields_match_the_plain_rules_for_any_cluster(records: bool, ranking: str) -> None:
    if records:
        prepared = prepare(RECORDS)
    else:  # no ShopRecords behind the rows: no description, opening hours, services
        columns = {name: [getattr(r, name) for r in RECORDS] for name in TABLE_FIELDS}
        prepared = prepare(ShopTable(columns))
    builder = (
        GoldenBuilder(prepared) if ranking == "plain" else GoldenBuilder(prepared, PRIORITY, DATES)
    )
    reference = Reference(builder)
    shown = set()
    for rows in _clusters(len(RECORDS)):
        expected = reference.fields(rows)
        assert builder.fields(rows) == expected, rows
        assert list(builder.fields(rows)) == list(expected), rows
        _same(builder.build(rows), reference.build(rows))
        shown.update(expected)
    # The clusters showed every field: the records are varied enough to test them all.
    everything = {*TEXT_FIELDS, "lat", "lon", "services"}
    from_records = {"description", "opening_hours", "services"}
    assert shown == (everything if records else everything - from_records)


def test_one_row_clusters_show_what_the_row_has() -> None:
    builder = GoldenBuilder(prepare(RECORDS))
    reference = Reference(builder)
    for row in range(len(RECORDS)):
        _same(builder.build([row]), reference.build([row]))
    blank = builder.fields([9])  # blank address and town, a shouted acronym
    assert "address" not in blank and "city" not in blank and blank["name"][0] == "SNCF Boutique"


def test_generated_clusters_match_the_plain_rules() -> None:
    data = generate(3000, 5)
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig())
    builder = result._golden()
    reference = Reference(builder)
    clusters = list(result.state.clusters().values())
    assert any(len(rows) > 2 for rows in clusters) and any(len(rows) == 1 for rows in clusters)
    for rows in clusters:
        assert builder.fields(rows) == reference.fields(rows)


def test_entities_are_the_models_model_construct_makes() -> None:
    result = match_shops(RECORDS, platform_priority=PRIORITY)
    table = result.state.table
    reference = Reference(result._golden())
    assert len(result.entities) < len(RECORDS)
    for entity in result.entities:
        rows = [result.state.row_of[str(key)] for key in entity.members]
        members = []
        for r in rows:
            platform, _, source_id = table.keys[r].partition(":")
            members.append(RecordKey.model_construct(platform=platform, source_id=source_id))
        listings = [
            Listing.model_construct(
                platform=table.columns["platform"][r],
                source_id=table.columns["source_id"][r],
                url=table.records[r].url,  # type: ignore[index]
                name=table.columns["name"][r],
            )
            for r in rows
        ]
        expected = Entity.model_construct(
            entity_id=entity.entity_id,
            members=members,
            golden=reference.build(rows),
            listings=listings,
            names=list(dict.fromkeys(table.columns["name"][r].strip() for r in rows)),
            offers=[],
        )
        _same(entity, expected)
        assert hash(entity.members[0]) == hash(members[0])
        assert entity.model_dump(mode="json") == expected.model_dump(mode="json")


def test_construct_makes_what_model_construct_makes() -> None:
    values = {"value": ["a"], "platform": "p", "source_id": "1"}
    _same(construct(Provenanced, dict(values)), Provenanced.model_construct(**values))
    key = construct(RecordKey, {"platform": "p", "source_id": "1"})
    _same(key, RecordKey.model_construct(platform="p", source_id="1"))
    assert hash(key) == hash(RecordKey(platform="p", source_id="1"))
    with pytest.raises(Exception, match="frozen"):
        key.platform = "q"  # type: ignore[misc]
    # Missing fields (defaults to fill in) and models that keep extras go through pydantic.
    _same(construct(GoldenRecord, {}), GoldenRecord.model_construct())

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    _same(construct(Open, {"a": 1}), Open.model_construct(a=1))
    # Setting a field of a made model leaves its fields set (shared between models) alone.
    one, two = (construct(Provenanced, dict(values)) for _ in range(2))
    one.value = "changed"
    assert two.model_fields_set == {"value", "platform", "source_id"} and two.value == ["a"]
    copy = one.model_copy(update={"platform": "q"})
    assert copy.platform == "q" and two.model_fields_set == one.model_fields_set


@pytest.mark.parametrize("size", range(1, 8))
def test_median_is_numpys(size: int) -> None:
    rng = random.Random(size)
    for _ in range(200):
        values = [rng.choice([43.6, 43.6001, 1.44, rng.uniform(-90, 90)]) for _ in range(size)]
        assert _median(values) == float(np.median(np.array(values)))
    assert _median([1.0, float("nan"), 2.0]) != _median([1.0, float("nan"), 2.0])

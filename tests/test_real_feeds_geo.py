"""Every real geo and register feed in ``../shared/data/real`` ingests with sensible results:
the Ténarèze lockdown layers and their history (``geojson``), the Niort OpenStreetMap exports
(``osm``), an extract of SIRET-keyed establishments (``sirene``) and the Niort Transiscope
export (``json_api``, GoGoCarto-style JSON).

Nothing of the data is copied here: the tests count, measure and check shapes.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import connectors.geojson  # noqa: F401  (registers the kinds read below)
import connectors.osm  # noqa: F401
import connectors.sirene  # noqa: F401
from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Emitted, Item, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind
from dedupe import load_taxonomy
from dedupe.prepare.identifiers import normalise_phone, siret_is_valid

pytestmark = pytest.mark.real_data

LOCKDOWN_MAPPING = {
    "name": "qui",
    "category": "quoi",
    "address": "adresse",
    "postcode": "code posta",
    "city": "commune",
    "phone": "numéro",
    "email": "mail",
    "website": "Site",
    "opening_hours": "obs",
}
#: The nine layers of the directory, and how many features each has.
LAYERS = {
    "Catgorie1_4": 75,
    "Catgorie2_3": 7,
    "Catgorie3_2": 6,
    "Catgorie4_1": 3,
    "Commercesdedtail_4": 85,
    "Commercesdeservices_2": 8,
    "Commercesquotidiens_4": 90,
    "Sant_3": 6,
    "Transport_1": 3,
}
#: Occitanie's departments, by the first two digits of their postcodes.
OCCITANIE = {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}
TRANSISCOPE_MAPPING = {
    "source_id": "id",
    "name": "title",
    "address": "address.street",
    "postcode": "address.postalCode",
    "city": "address.city",
    "lat": "location.lat",
    "lon": "location.lon",
    "url": "url",
    "website": "website",
    "email": "email",
    "phone": "telephone",
    "description": "summary",
}


@pytest.fixture
def context() -> Iterator[ReadContext]:
    with FeedClient() as http:  # local files only: the administrator's path
        yield ReadContext(http=http, allow_local_files=True)


def registration(
    path: Path, kind: str, mapping: dict[str, str] | None = None, **options: Any
) -> ConnectorRegistration:
    return ConnectorRegistration(
        platform="real", kind=kind, url=str(path), mapping=mapping or {}, options=options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext
) -> tuple[list[ShopRecord], list[Rejection]]:
    emitted: list[Emitted] = list(get_kind(reg.kind).read(reg, {}, context))
    shops = [e.record for e in emitted if isinstance(e, Item) and isinstance(e.record, ShopRecord)]
    return shops, [e for e in emitted if isinstance(e, Rejection)]


def share(records: list[ShopRecord], test: Any) -> float:
    return sum(1 for r in records if test(r)) / len(records)


def history(shared_real: Path) -> list[Path]:
    """The snapshots of one layer in the order they were published (76 rows, then 83, then 90)."""
    folder = shared_real / "lockdown_fr_tenareze_2020" / "history"
    updates = sorted(folder.glob("MAJ*.geojson"), key=lambda p: p.stem.split("_")[1])
    return updates + sorted(folder.glob("Liste*.geojson"))


@pytest.mark.parametrize("layer", LAYERS)
def test_each_lockdown_layer(shared_real: Path, context: ReadContext, layer: str) -> None:
    path = shared_real / "lockdown_fr_tenareze_2020" / f"{layer}.geojson"
    shops, refused = read(registration(path, "geojson", LOCKDOWN_MAPPING, category=layer), context)
    assert len(shops) + len(refused) == LAYERS[layer]
    for rejection in refused:  # the same business twice in a layer (one listed under 2 labels)
        assert rejection.reason.startswith("duplicate source_id 'c-"), rejection
        assert rejection.reason.endswith(": same name, address, geometry")
    assert len(refused) <= 1
    assert all(shop.name.strip() for shop in shops)
    assert all(43.8 < shop.lat < 44.05 and 0.15 < shop.lon < 0.5 for shop in shops)  # type: ignore[operator]
    phones = [shop.phone for shop in shops if shop.phone]
    assert all(normalise_phone(phone) for phone in phones), "every phone given parses"
    assert share(shops, lambda s: s.phone) >= 0.8
    assert all(shop.postcode is None or shop.postcode.startswith("32") for shop in shops)  # Gers


def test_the_lockdown_directory_as_a_whole(shared_real: Path, context: ReadContext) -> None:
    shops: list[ShopRecord] = []
    refused: list[Rejection] = []
    for layer in LAYERS:
        path = shared_real / "lockdown_fr_tenareze_2020" / f"{layer}.geojson"
        found, rejections = read(
            registration(path, "geojson", LOCKDOWN_MAPPING, category=layer), context
        )
        shops += found
        refused += rejections
    assert (len(shops), len(refused)) == (280, 3)  # 283 rows; one duplicate in 3 layers
    lat = sum(s.lat for s in shops) / len(shops)  # type: ignore[misc]
    lon = sum(s.lon for s in shops) / len(shops)  # type: ignore[misc]
    assert abs(lat - 43.9) < 0.1 and abs(lon - 0.3) < 0.1  # the Ténarèze, in the Gers
    assert len({s.source_id for s in shops}) == len(shops)  # the layer is part of content ids
    taxonomy = load_taxonomy()
    assert share(shops, lambda s: taxonomy.normalise(s.category)) >= 0.9
    assert share(shops, lambda s: s.opening_hours) >= 0.95  # `obs`: hours and drive notes
    assert share(shops, lambda s: s.email) >= 0.5


def test_history_snapshots_give_new_and_changed_counts_and_stable_ids(
    shared_real: Path, context: ReadContext, tmp_path: Path
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    settings = Settings(data_dir=tmp_path / "var")
    counts = []
    try:
        for path in history(shared_real):
            reg = registration(path, "geojson", LOCKDOWN_MAPPING).model_copy(update={"id": "layer"})
            store.save_connector(reg, origin="cli")
            run = run_connector(store, reg, context, settings)
            assert run.status == "ok", run.errors
            counts.append(run.counts)
    finally:
        store.dispose()
    assert [c.fetched for c in counts] == [76, 83, 83, 83, 83, 83, 90]
    first, second = counts[0], counts[1]
    assert (first.new, first.rejected) == (74, 2)  # two businesses listed twice
    # Every feature gained a `Site` property: changed, not new; six businesses were added.
    assert (second.new, second.changed, second.unchanged, second.gone) == (6, 74, 0, 0)
    assert second.rejected == 3  # two empty features, and the duplicate
    assert (counts[5].new, counts[5].changed, counts[5].gone) == (0, 1, 0)  # one edit
    assert all(c.new + c.changed + c.unchanged == c.fetched - c.rejected for c in counts)
    # A pin moved or an address completed is another (name, address, position): new + gone.
    assert (counts[3].new, counts[3].gone) == (8, 8)


def test_history_ids_are_stable_for_unchanged_businesses(
    shared_real: Path, context: ReadContext
) -> None:
    def ids(path: Path, **options: Any) -> dict[tuple[Any, ...], str]:
        shops, _ = read(registration(path, "geojson", LOCKDOWN_MAPPING, **options), context)
        return {(s.name, s.address, s.lat, s.lon): s.source_id for s in shops}

    snapshots = history(shared_real)
    lost, lost_by_town = [], []
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        old, new = ids(before), ids(after)
        assert all(old[key] == new[key] for key in old.keys() & new.keys())
        lost.append(len(set(old.values()) - set(new.values())))
        by_town = [ids(path, content_fields=["name", "city"]) for path in (before, after)]
        lost_by_town.append(len(set(by_town[0].values()) - set(by_town[1].values())))
    # By default a moved pin or a completed address is another id; by name and town no
    # business of the seven snapshots ever loses its id.
    assert lost == [0, 1, 8, 2, 0, 19]
    assert lost_by_town == [0, 0, 0, 0, 0, 0]


def test_niort_pharmacies_from_an_osm_export(shared_real: Path, context: ReadContext) -> None:
    shops, refused = read(registration(shared_real / "niort_fr" / "pharmacy.json", "osm"), context)
    assert (len(shops), refused) == (33, [])
    assert {s.category for s in shops} == {"amenity=pharmacy"}
    assert all(s.source_id.startswith("node/") and s.url for s in shops)
    assert all(46.2 < s.lat < 46.4 and -0.6 < s.lon < -0.35 for s in shops)  # type: ignore[operator]
    assert sum(1 for s in shops if s.phone and normalise_phone(s.phone)) == 32
    assert sum(1 for s in shops if s.opening_hours) == 32
    assert sum(1 for s in shops if s.opening_hours and " / " in s.opening_hours) >= 20  # kept as is
    assert share(shops, lambda s: s.address and s.postcode and s.city) >= 0.75


def test_niort_doctors_reuse_osm_ids(shared_real: Path, context: ReadContext) -> None:
    path = shared_real / "niort_fr" / "doctors.json"
    shops, refused = read(registration(path, "osm"), context)
    assert (len(shops), len(refused)) == (9, 12)  # 21 doctors under 9 OSM ids
    assert all("the export gives this OSM id to another place" in r.reason for r in refused)
    # As the reason says: ids from the content; the export's own `adresse` tag for the address.
    shops, refused = read(
        registration(path, "osm", {"address": "adresse"}, source_id_from="content"), context
    )
    assert (len(shops), refused) == (21, [])
    assert sum(1 for s in shops if s.phone and normalise_phone(s.phone)) == 17
    assert share(shops, lambda s: s.address) >= 0.85
    assert share(shops, lambda s: s.category in ("amenity=doctors", "healthcare=doctor")) >= 0.7


def test_siret_keyed_establishments(shared_real: Path, context: ReadContext) -> None:
    path = shared_real / "sirene_like" / "maestro_egg_producers_siret.csv"
    mapping = {"name": "name", "address": "address", "postcode": "postalCode", "city": "city"}
    shops, refused = read(registration(path, "sirene", mapping), context)
    assert len(shops) + len(refused) == 1127
    reasons = collections.Counter(r.reason.split(" spans ")[0].split(" (first")[0] for r in refused)
    # 31 rows swallow the next establishments in a quoted address (a broken conversion): their
    # postcode and town are another farm's, so the rows are refused; one row is there twice.
    assert reasons == {"address (from 'address')": 31, "duplicate source_id '39168697900017'": 1}
    assert len(shops) == 1095
    assert all(s.siret and siret_is_valid(s.siret) and s.siret == s.source_id for s in shops)
    assert sum(1 for s in shops if s.siret.startswith("0")) == 1  # type: ignore[union-attr]
    occitanie = [s for s in shops if (s.postcode or "")[:2] in OCCITANIE]
    assert 110 <= len(occitanie) <= 135
    assert share(shops, lambda s: s.address) > 0.98


def test_transiscope_through_json_api(shared_real: Path, context: ReadContext) -> None:
    path = shared_real / "niort_fr" / "transiscopeDatas.json"
    shops, refused = read(registration(path, "json_api", TRANSISCOPE_MAPPING), context)
    assert (len(shops), refused) == (100, [])
    assert all(45.8 < s.lat < 46.7 and -1.1 < s.lon < 0.2 for s in shops)  # type: ignore[operator]
    assert share(shops, lambda s: s.postcode) >= 0.9
    assert share(shops, lambda s: s.website) >= 0.5
    assert sum(1 for s in shops if s.phone and normalise_phone(s.phone)) == 7
    spellings = sorted(s.name for s in shops if s.name.lower() == "l'alternateur")
    assert spellings == ["L'Alternateur", "L'alternateur"]  # a cross-source duplicate, kept
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert {s.source_id for s in shops} == {r["id"] for r in raw}

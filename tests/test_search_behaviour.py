"""What a customer can count on, whichever engine answers: one suite, every backend.

The embedded backend always runs it; Meilisearch runs it when ``MEILI_URL`` points at a server
(``MEILI_MASTER_KEY`` if it has one), on indexes of its own that are dropped afterwards. Without
a server the Meilisearch requests are still checked against its documented API by
``test_search_meili_contract``.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.models import Entity, Provenanced
from search import (
    EmbeddedBackend,
    MeiliBackend,
    SearchAnswer,
    SearchBackend,
    SearchQuery,
    Synonyms,
)
from search.embedded_geo import haversine_m

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_search_sample import CAPITOLE, make_entity, sample_entities
except ImportError:
    from test_search_sample import CAPITOLE, make_entity, sample_entities  # type: ignore[no-redef]

SYNONYMS = Synonyms.load(Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml")
MEILI_URL = os.environ.get("MEILI_URL")
PARIS = ZoneInfo("Europe/Paris")


def open_embedded(tmp_path: Path) -> SearchBackend:
    return EmbeddedBackend(tmp_path / "search", synonyms=SYNONYMS)


def open_meilisearch(tmp_path: Path) -> SearchBackend:
    if not MEILI_URL:
        pytest.skip("MEILI_URL is not set: no Meilisearch server to run the suite on")
    key = os.environ.get("MEILI_MASTER_KEY")
    return MeiliBackend(MEILI_URL, key, synonyms=SYNONYMS, index_prefix=f"t{uuid.uuid4().hex[:10]}")


BACKENDS = {"embedded": open_embedded, "meilisearch": open_meilisearch}


@pytest.fixture(params=sorted(BACKENDS))
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    backend = BACKENDS[request.param](tmp_path)
    yield backend
    if isinstance(backend, MeiliBackend):
        backend.drop()
    backend.close()


@pytest.fixture
def backend(empty: SearchBackend) -> SearchBackend:
    empty.rebuild(sample_entities())
    return empty


def search(backend: SearchBackend, text: str = "", **options: object) -> SearchAnswer:
    return backend.search(SearchQuery(text=text, per_page=100, **options))  # type: ignore[arg-type]


def ids(answer: SearchAnswer) -> list[str]:
    return [hit.entity_id for hit in answer.hits]


def with_hours(entity: Entity, hours: str) -> Entity:
    golden = entity.golden.fields["name"]
    entity.golden.fields["opening_hours"] = Provenanced(
        value=hours, platform=golden.platform, source_id=golden.source_id
    )
    return entity


# -- words ------------------------------------------------------------------------------------


def test_a_typo_still_finds_the_shop(backend: SearchBackend) -> None:
    found = set(ids(search(backend, "boulangrie")))
    assert {"ent-boul-capitole", "ent-boul-blagnac", "ent-boul-ramonville"} <= found
    assert "ent-fromage" not in found
    assert ids(search(backend, "pian ")) == []  # four letters allow no typo


def test_a_typo_in_the_name_outranks_one_in_the_category(empty: SearchBackend) -> None:
    """Meilisearch's attribute rule: "boulangrie" is a typo of both the name "Boulangerie du
    Pont" and the category of four bakeries named otherwise; the shop that carries the word in
    its name comes first, whatever order the index was built in."""
    others = [
        make_entity(f"ent-mie-{i}", name, "boulangerie", "Toulouse", "31000", 43.6, 1.44)
        for i, name in enumerate(["La Mie de Manon", "Au Pain Doré", "Fournil Câlin", "Le Levain"])
    ]
    named = make_entity(
        "ent-boul-pont", "Boulangerie du Pont", "boulangerie", "Toulouse", "31000", 43.6, 1.44
    )
    empty.rebuild([*others, named])
    for text in ("boulangrie", "boulangrie ", "boulange"):
        assert ids(search(empty, text))[:1] == ["ent-boul-pont"], text


def test_a_prefix_finds_the_shop_while_typing(backend: SearchBackend) -> None:
    assert "ent-boul-capitole" in ids(search(backend, "boulan"))
    assert "ent-fromage" in ids(search(backend, "froma"))
    assert ids(search(backend, "boulan ")) == []  # a finished word is not a prefix


@pytest.mark.parametrize("text", ["Pâtisserie", "patisseries", "PATISSERIE", "pâtisseries "])
def test_accents_case_and_plurals_do_not_matter(backend: SearchBackend, text: str) -> None:
    assert ids(search(backend, text))[:1] == ["ent-patiss-colomiers"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("boucher toulouse", "ent-boucherie"),
        ("pizza", "ent-pizza"),
        ("coiffeur", "ent-coiffeur"),
        ("cave à vin ", "ent-caviste"),
        ("fleurs ", "ent-fleuriste"),
    ],
)
def test_synonyms(backend: SearchBackend, text: str, expected: str) -> None:
    assert expected in ids(search(backend, text))


def test_offers_are_answered_with_their_shop_in_the_same_query(backend: SearchBackend) -> None:
    answer = search(backend, "croissants")
    assert {(o.title, o.entity_id) for o in answer.offers} == {
        ("Croissant pur beurre", "ent-boul-capitole"),
        ("Croissant aux amandes", "ent-boul-blagnac"),
    }
    assert answer.offers_total == 2
    assert all(o.shop_name and o.price and o.url for o in answer.offers)


# -- filters and facets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"city": "toulouse"}, {"ent-boul-capitole", "ent-boul-carmes"}),
        ({"postcode": "31700"}, {"ent-boul-blagnac"}),
        ({"category": "Boulangerie", "city": "Ramonville-Saint-Agne"}, {"ent-boul-ramonville"}),
        ({"platform": "geolocal31"}, {"ent-boul-capitole", "ent-boul-blagnac"}),
        ({"services": ["click_and_collect"]}, {"ent-boul-capitole", "ent-boul-blagnac"}),
        ({"services": ["click_and_collect", "livraison"]}, set()),
    ],
)
def test_each_filter_narrows(
    backend: SearchBackend, options: dict[str, object], expected: set[str]
) -> None:
    everything = set(ids(search(backend, "boulangerie")))
    narrowed = set(ids(search(backend, "boulangerie", **options)))
    assert narrowed == expected and narrowed <= everything


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"text": "boulangerie"},
        {"city": "Toulouse"},
        {"services": ["click_and_collect"]},
        {"lat": CAPITOLE[0], "lon": CAPITOLE[1], "radius_m": 6000.0},
    ],
)
def test_facet_counts_equal_the_matching_shops(
    backend: SearchBackend, options: dict[str, object]
) -> None:
    answer = backend.search(SearchQuery(per_page=100, **options))  # type: ignore[arg-type]
    assert answer.total == len(answer.hits)
    expected: dict[str, Counter[str]] = {n: Counter() for n in answer.query.facets}
    for hit in answer.hits:
        expected["city"].update([hit.city] if hit.city else [])
        expected["category"].update([hit.category] if hit.category else [])
        expected["platforms"].update(hit.platforms)
        expected["services"].update(hit.services)
    assert answer.facets == {name: dict(counts) for name, counts in expected.items()}


def test_open_now(empty: SearchBackend) -> None:
    shops = sample_entities()[:3]
    with_hours(shops[0], "Tu-Sa 07:00-19:30; Su 07:00-12:30")
    with_hours(shops[1], "Mo-Fr 09:00-12:30 / 14:00-19:30")
    with_hours(shops[2], "sur rendez-vous")  # unreadable: never "open now"
    empty.rebuild(shops)

    def open_at(moment: datetime) -> set[str]:
        return set(ids(search(empty, open_now=True, at=moment)))

    assert open_at(datetime(2025, 6, 3, 10, 0, tzinfo=PARIS)) == {
        "ent-boul-capitole",
        "ent-boul-carmes",
    }
    assert open_at(datetime(2025, 6, 3, 13, 0, tzinfo=PARIS)) == {"ent-boul-capitole"}
    assert open_at(datetime(2025, 6, 8, 11, 0, tzinfo=PARIS)) == {"ent-boul-capitole"}  # Sunday
    assert open_at(datetime(2025, 6, 2, 22, 0, tzinfo=PARIS)) == set()
    offers = search(empty, "croissant", open_now=True, at=datetime(2025, 6, 2, 10, 0, tzinfo=PARIS))
    assert offers.offers == []  # Monday: the shop selling croissants is closed


# -- place ------------------------------------------------------------------------------------


def test_the_radius_excludes_what_is_outside(backend: SearchBackend) -> None:
    answer = search(backend, lat=CAPITOLE[0], lon=CAPITOLE[1], radius_m=3000)
    within = {
        e.entity_id
        for e in sample_entities()
        if e.golden.value("lat") is not None
        and haversine_m(*CAPITOLE, e.golden.value("lat"), e.golden.value("lon")) <= 3000
    }
    assert (
        set(ids(answer))
        == within
        == {
            "ent-boul-capitole",
            "ent-fromage",
            "ent-boul-carmes",
            "ent-boucherie",
        }
    )
    assert answer.total == 4
    assert all(h.distance_m is not None and h.distance_m <= 3000 for h in answer.hits)


def test_distance_sort_orders_by_distance(backend: SearchBackend) -> None:
    answer = search(backend, lat=CAPITOLE[0], lon=CAPITOLE[1], sort="distance")
    distances = [h.distance_m for h in answer.hits if h.distance_m is not None]
    assert distances == sorted(distances) and len(distances) == 11
    assert ids(answer)[0] == "ent-boul-capitole"
    assert ids(answer)[-1] == "ent-fleuriste"  # no coordinates: last
    near_ramonville = search(backend, "boulangerie", lat=43.545, lon=1.475, sort="distance")
    assert ids(near_ramonville)[0] == "ent-boul-ramonville"


# -- personal ---------------------------------------------------------------------------------


def test_interests_reorder_without_hiding(backend: SearchBackend) -> None:
    plain = search(backend, city="Toulouse")
    for interest in ("fromage", "fromagerie"):
        personal = search(backend, city="Toulouse", interests=[interest])
        assert ids(personal)[0] == "ent-fromage"
        assert sorted(ids(personal)) == sorted(ids(plain))
        assert personal.total == plain.total
    wine = search(backend, "click", interests=["vins"])
    assert ids(wine)[0] == "ent-caviste"
    assert len(ids(wine)) == 4


# -- over time --------------------------------------------------------------------------------


def test_deleted_shops_disappear_with_their_offers(backend: SearchBackend) -> None:
    assert backend.delete(["ent-boul-capitole"]) == 1
    assert "ent-boul-capitole" not in ids(search(backend, "boulangerie"))
    assert [o.entity_id for o in search(backend, "croissant").offers] == ["ent-boul-blagnac"]
    assert backend.get("ent-boul-capitole") is None
    assert backend.count() == 11


def test_an_upsert_replaces_the_shop_and_its_offers(backend: SearchBackend) -> None:
    renamed = make_entity(
        "ent-boul-blagnac",
        "Maison Martin",
        "boulangerie",
        "Blagnac",
        "31700",
        43.637,
        1.39,
        offers=[("Chocolatine", 1.3)],
    )
    backend.upsert([renamed])
    assert ids(search(backend, "maison martin")) == ["ent-boul-blagnac"]
    assert [o.entity_id for o in search(backend, "croissant").offers] == ["ent-boul-capitole"]
    assert backend.count() == 12


def test_a_rebuild_never_answers_empty_midway(backend: SearchBackend) -> None:
    before = set(ids(search(backend, "boulangerie")))
    fresh = [
        make_entity(
            f"ent-new-{i}",
            f"Boulangerie Nouvelle {i}",
            "boulangerie",
            "Toulouse",
            "31000",
            43.6,
            1.44,
        )
        for i in range(30)
    ]
    after = {e.entity_id for e in fresh}
    seen: list[set[str]] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def keep_searching() -> None:
        while not done.is_set():
            try:
                seen.append(set(ids(search(backend, "boulangerie"))))
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
                return

    def slowly() -> Iterator[Entity]:
        for entity in fresh:
            done.wait(0.005)
            yield entity

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        backend.rebuild(slowly())
    finally:
        done.set()
        reader.join()
    assert not failures
    assert seen and all(found in (before, after) for found in seen)
    assert set(ids(search(backend, "boulangerie"))) == after

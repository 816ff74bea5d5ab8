"""The embedded (tantivy) backend answers like a customer expects: typos, prefixes, French plurals
and accents, synonyms, filters, exact facets, radius and distance, interests, offers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from search import EmbeddedBackend, SearchAnswer, SearchQuery, Synonyms
from search.embedded_query import haversine_m

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_search_sample import CAPITOLE, make_entity, sample_entities
except ImportError:
    from test_search_sample import CAPITOLE, make_entity, sample_entities  # type: ignore[no-redef]

SYNONYMS = Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[EmbeddedBackend]:
    backend = EmbeddedBackend(tmp_path / "search", synonyms=Synonyms.load(SYNONYMS))
    backend.rebuild(sample_entities())
    yield backend
    backend.close()


def ids(answer: SearchAnswer) -> list[str]:
    return [hit.entity_id for hit in answer.hits]


def search(backend: EmbeddedBackend, text: str = "", **options: object) -> SearchAnswer:
    return backend.search(SearchQuery(text=text, per_page=100, **options))  # type: ignore[arg-type]


def test_typo_finds_the_boulangerie(backend: EmbeddedBackend) -> None:
    answer = search(backend, "boulangrie")
    assert "ent-boul-capitole" in ids(answer)
    assert set(ids(answer)) >= {"ent-boul-blagnac", "ent-boul-ramonville"}
    assert "ent-fromage" not in ids(answer)


def test_short_words_get_no_typo(backend: EmbeddedBackend) -> None:
    assert ids(search(backend, "pian ")) == []  # "pain" with a typo: 4 letters allow none


def test_prefix_on_the_last_word(backend: EmbeddedBackend) -> None:
    assert "ent-boul-capitole" in ids(search(backend, "boulan"))
    assert "ent-boul-capitole" in ids(search(backend, "baguettes viennois"))
    assert ids(search(backend, "boulan ")) == []  # a finished word is not a prefix


@pytest.mark.parametrize("text", ["Pâtisserie", "patisseries", "PATISSERIE", "pâtisseries "])
def test_accents_case_and_plurals_do_not_matter(backend: EmbeddedBackend, text: str) -> None:
    assert ids(search(backend, text))[:1] == ["ent-patiss-colomiers"]


def test_synonym_boucher_finds_a_boucherie(backend: EmbeddedBackend) -> None:
    # Not the last word, so no prefix: only the synonym group links the two.
    assert ids(search(backend, "boucher toulouse")) == ["ent-boucherie"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pizza", "ent-pizza"),
        ("coiffeur", "ent-coiffeur"),
        ("cave à vin ", "ent-caviste"),
        ("fleurs ", "ent-fleuriste"),
        ("fleuriste ", "ent-fleuriste"),
    ],
)
def test_synonym_groups(backend: EmbeddedBackend, text: str, expected: str) -> None:
    assert expected in ids(search(backend, text))


def test_every_word_must_match(backend: EmbeddedBackend) -> None:
    assert ids(search(backend, "boulangerie blagnac")) == ["ent-boul-blagnac"]
    assert ids(search(backend, "boulangerie fromages ")) == []


def test_fewer_typos_first(tmp_path: Path) -> None:
    entities = [
        make_entity(
            "ent-typo",
            "Capitolle Capitolle Primeurs",
            "primeur",
            "Toulouse",
            "31000",
            43.60,
            1.44,
            description="Capitolle, le primeur du Capitolle",
        ),
        make_entity(
            "ent-exact",
            "Tabac presse",
            "tabac",
            "Toulouse",
            "31000",
            43.60,
            1.44,
            description="Au pied du capitole",
        ),
    ]
    with EmbeddedBackend(tmp_path / "s") as backend:
        backend.rebuild(entities)
        answer = search(backend, "capitole ")
        assert ids(answer) == ["ent-exact", "ent-typo"]


def test_empty_text_with_a_filter_lists_shops(backend: EmbeddedBackend) -> None:
    answer = search(backend, city="Toulouse")
    toulouse = {e.entity_id for e in sample_entities() if e.golden.value("city") == "Toulouse"}
    assert set(ids(answer)) == toulouse
    assert answer.total == len(toulouse) == 6
    assert answer.offers == []
    assert search(backend).total == 12


@pytest.mark.parametrize("city", ["Toulouse", "toulouse", "TOULOUSE "])
def test_city_filter_narrows(backend: EmbeddedBackend, city: str) -> None:
    answer = search(backend, "boulangerie", city=city)
    assert set(ids(answer)) == {"ent-boul-capitole", "ent-boul-carmes"}
    assert all(o.city == "Toulouse" for o in answer.offers)


def test_category_platform_postcode_and_services_filters(backend: EmbeddedBackend) -> None:
    assert set(ids(search(backend, "toulouse", category="boulangerie"))) == {
        "ent-boul-capitole",
        "ent-boul-carmes",
    }
    assert set(ids(search(backend, platform="click-n-co"))) == {
        "ent-caviste",
        "ent-boul-ramonville",
    }
    assert set(ids(search(backend, postcode="31700"))) == {"ent-boul-blagnac", "ent-coiffeur"}
    assert set(ids(search(backend, "boulangerie", services=["click_and_collect"]))) == {
        "ent-boul-capitole",
        "ent-boul-blagnac",
    }
    assert ids(search(backend, city="Ramonville-Saint-Agne", category="caviste")) == ["ent-caviste"]
    assert ids(search(backend, city="ramonville saint agne", category="caviste")) == ["ent-caviste"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"text": "boulangerie"},
        {"city": "Toulouse"},
        {"text": "bois"},
        {"services": ["click_and_collect"]},
        {"lat": CAPITOLE[0], "lon": CAPITOLE[1], "radius_m": 6000.0},
        {"text": "boulangrie", "lat": CAPITOLE[0], "lon": CAPITOLE[1], "radius_m": 7000.0},
    ],
)
def test_facet_counts_equal_the_matching_shops(
    backend: EmbeddedBackend, options: dict[str, object]
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


def test_radius_keeps_only_nearer_shops(backend: EmbeddedBackend) -> None:
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
        == {"ent-boul-capitole", "ent-fromage", "ent-boul-carmes", "ent-boucherie"}
    )
    assert answer.total == 4
    assert all(h.distance_m is not None and h.distance_m <= 3000 for h in answer.hits)


def test_distance_sort_orders_ascending(backend: EmbeddedBackend) -> None:
    answer = search(backend, lat=CAPITOLE[0], lon=CAPITOLE[1], sort="distance")
    distances = [h.distance_m for h in answer.hits]
    assert answer.total == len(distances) == 12
    assert distances[-1] is None  # the shop without coordinates comes last
    assert distances[:-1] == sorted(distances[:-1])  # type: ignore[type-var]
    assert ids(answer)[0] == "ent-boul-capitole"
    boulangeries = search(backend, "boulangerie", lat=43.545, lon=1.475, sort="distance")
    assert ids(boulangeries)[0] == "ent-boul-ramonville"


def test_distance_sort_pages_follow_each_other(backend: EmbeddedBackend) -> None:
    place = {"lat": 43.64, "lon": 1.39, "sort": "distance"}
    everything = ids(search(backend, **place))
    pages = [
        ids(backend.search(SearchQuery(page=p, per_page=3, **place)))  # type: ignore[arg-type]
        for p in range(1, 5)
    ]
    assert sum(pages, []) == everything
    assert everything[:2] == ["ent-boul-blagnac", "ent-coiffeur"]


def test_relevance_pages_follow_each_other(backend: EmbeddedBackend) -> None:
    everything = ids(search(backend, "boulangrie"))
    pages = [
        ids(backend.search(SearchQuery(text="boulangrie", page=p, per_page=1)))
        for p in range(1, len(everything) + 2)
    ]
    assert sum(pages, []) == everything
    assert pages[-1] == []


def test_interests_reorder_but_do_not_hide(backend: EmbeddedBackend) -> None:
    plain = search(backend, city="Toulouse")
    for interest in ("fromage", "fromagerie"):
        personal = search(backend, city="Toulouse", interests=[interest])
        assert ids(personal)[0] == "ent-fromage"
        assert sorted(ids(personal)) == sorted(ids(plain))
        assert personal.total == plain.total
    wine = search(backend, "click", interests=["vins"])
    assert ids(wine)[0] == "ent-caviste"
    assert len(ids(wine)) == 4


def test_offers_are_found_by_product_words_with_their_shop(backend: EmbeddedBackend) -> None:
    answer = search(backend, "croissant")
    assert {(o.title, o.shop_name, o.entity_id) for o in answer.offers} == {
        ("Croissant pur beurre", "Boulangerie du Capitole", "ent-boul-capitole"),
        ("Croissant aux amandes", "Boulangerie Martin", "ent-boul-blagnac"),
    }
    assert answer.total == 0  # total counts shops
    first = answer.offers[0]
    assert first.price is not None and first.currency == "EUR" and first.url
    nearby = search(backend, "croissants", lat=CAPITOLE[0], lon=CAPITOLE[1], radius_m=2000)
    assert [o.shop_name for o in nearby.offers] == ["Boulangerie du Capitole"]
    assert nearby.offers[0].distance_m is not None and nearby.offers[0].distance_m < 100
    assert [o.title for o in search(backend, "croissant", city="Blagnac").offers] == [
        "Croissant aux amandes"
    ]


def test_hits_carry_the_shop_and_where_it_is_listed(backend: EmbeddedBackend) -> None:
    hit = search(backend, "levain")
    assert ids(hit) == ["ent-boul-capitole"]
    shop = hit.hits[0]
    assert shop.name == "Boulangerie du Capitole"
    assert (shop.city, shop.postcode, shop.category) == ("Toulouse", "31000", "boulangerie")
    assert [listing.platform for listing in shop.listings] == ["toutoulouse", "geolocal31"]
    assert shop.platforms == ["toutoulouse", "geolocal31"]
    assert shop.opening_hours and shop.phone and shop.website
    assert shop.highlight is not None and "<mark>levain</mark>" in shop.highlight


def test_highlight_escapes_merchant_text(tmp_path: Path) -> None:
    evil = make_entity(
        "ent-evil",
        "Chez <b>Eve</b>",
        "epicerie",
        "Toulouse",
        "31000",
        None,
        None,
        description='<script>alert("x")</script> confitures maison',
    )
    with EmbeddedBackend(tmp_path / "s") as backend:
        backend.upsert([evil])
        highlight = search(backend, "confiture").hits[0].highlight
        assert highlight == (
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>confitures</mark> maison"
        )


def test_get_returns_the_stored_shop_document(backend: EmbeddedBackend) -> None:
    doc = backend.get("ent-fromage")
    assert doc is not None
    assert doc["name"] == "Fromagerie Xavier"
    assert doc["platforms"] == ["toutoulouse", "tous-occitariens"]
    assert backend.get("ent-fromage/toutoulouse/ent-fromage-o0") is None  # offers are not shops
    assert backend.get("nope") is None
    assert backend.count() == 12


def test_facet_values_spelled_differently_count_as_one(tmp_path: Path) -> None:
    entities = [
        make_entity(
            "ent-a",
            "Boulangerie A",
            "boulangerie",
            "Toulouse",
            "31000",
            None,
            None,
            services=["Livraison", "livraison"],
        ),
        make_entity("ent-b", "Boulangerie B", "boulangerie", "Toulouse", "31000", None, None),
        make_entity(
            "ent-c",
            "Boulangerie C",
            "boulangerie",
            "TOULOUSE",
            "31000",
            None,
            None,
            services=["livraison"],
        ),
    ]
    with EmbeddedBackend(tmp_path / "s") as backend:
        backend.rebuild(entities)
        answer = search(backend, "boulangerie")
        assert answer.facets["city"] == {"Toulouse": 3}
        assert sum(answer.facets["services"].values()) == 2
        assert search(backend, city="Toulouse").total == 3


def test_offer_payloads_keep_every_field_a_hit_shows() -> None:
    from search.embedded_schema import OFFER_PAYLOAD
    from search.query import OfferHit

    assert set(OfferHit.model_fields) - {"distance_m", "score"} <= set(OFFER_PAYLOAD)

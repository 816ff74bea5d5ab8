"""The Meilisearch backend against the documented API, with no server: a loopback stand-in
(``search_meili_fake``) records every request, checks it against the documentation
(``search_meili_api``) and answers as Meilisearch does. The behavioural suite runs the real
engine when ``MEILI_URL`` is set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.settings import Settings
from search import (
    ConfigurationError,
    MeiliBackend,
    MeiliTaskError,
    SearchQuery,
    Synonyms,
    open_backend,
)
from search.meilisearch.settings import OFFER_FIELDS, SHOP_FIELDS, document_uid
from search.opening_hours import tokens_at

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.search_meili_api import check
    from tests.search_meili_fake import MASTER_KEY, FakeMeilisearch, serve_meilisearch
    from tests.search_meili_filter import Filter
    from tests.test_search_sample import CAPITOLE, make_entity, sample_entities
except ImportError:
    from search_meili_api import check  # type: ignore[no-redef]
    from search_meili_fake import (  # type: ignore[no-redef]
        MASTER_KEY,
        FakeMeilisearch,
        serve_meilisearch,
    )
    from search_meili_filter import Filter  # type: ignore[no-redef]
    from test_search_sample import CAPITOLE, make_entity, sample_entities  # type: ignore[no-redef]

from search.documents import entity_documents

SYNONYMS = Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml"


@pytest.fixture
def fake() -> Iterator[FakeMeilisearch]:
    with serve_meilisearch() as server:
        yield server
    assert server.violations == [], "requests or answers that do not follow the documented API"
    assert server.refused == [], "requests the backend's key may not make"


@pytest.fixture
def backend(fake: FakeMeilisearch) -> MeiliBackend:
    return MeiliBackend(fake.url, MASTER_KEY, synonyms=Synonyms.load(SYNONYMS), index_prefix="t")


@pytest.fixture
def built(backend: MeiliBackend, fake: FakeMeilisearch) -> MeiliBackend:
    backend.rebuild(sample_entities())
    fake.requests.clear()
    return backend


def last_search(fake: FakeMeilisearch) -> dict[str, Any]:
    return fake.calls("POST", "/multi-search")[-1].body


# -- the checker itself: it must catch what Meilisearch rejects -------------------------------


def test_the_documented_shapes_reject_undocumented_keys() -> None:
    assert check("PATCH", "/indexes/a/settings", {}, {"rankingRule": []})
    assert check("PATCH", "/indexes/a/settings", {}, {"typoTolerance": {"oneTypo": 5}})
    assert check("POST", "/swap-indexes", {}, {"indexes": ["a", "b"]})  # must be a list
    assert check("POST", "/swap-indexes", {}, [{"indexes": ["a", "b", "c"]}])
    federated = {"federation": {}, "queries": [{"indexUid": "a", "limit": 5}]}
    assert check("POST", "/multi-search", {}, federated)
    assert check("POST", "/multi-search", {}, {"federation": {"size": 3}, "queries": []})
    options = {"indexUid": "a", "federationOptions": {"boost": 2}}
    assert check("POST", "/multi-search", {}, {"federation": {}, "queries": [options]})
    assert check("POST", "/indexes/a/documents", {"pk": "id"}, [])
    assert check("POST", "/keys", {}, {"actions": ["search"], "indexes": ["a"]})
    assert not check("POST", "/swap-indexes", {}, [{"indexes": ["a", "b"]}])


@pytest.mark.parametrize(
    "expression",
    [
        'colour = "red"',  # not filterable
        'city_key = "a" AND',
        "city_key IN [",
        "_geoRadius(43.6, 1.44)",
        'city_key ~ "a"',
    ],
)
def test_the_filter_grammar_rejects_what_meilisearch_would(expression: str) -> None:
    with pytest.raises(ValueError):
        Filter(expression, {"city_key", "_geo"})


def test_the_filter_grammar_evaluates() -> None:
    document = {
        "city_key": "toulouse",
        "services_key": ["livraison"],
        "_geo": {"lat": 43.6, "lng": 1.44},
    }
    accepts = [
        'city_key = "toulouse"',
        'services_key IN ["a", "livraison"]',
        'NOT (city_key = "blagnac")',
        '(city_key = "x") OR (services_key = "livraison" AND city_key = "toulouse")',
        "_geoRadius(43.6, 1.4401, 100)",
        ['city_key = "toulouse"', ['city_key = "x"', 'services_key = "livraison"']],
    ]
    fields = {"city_key", "services_key", "_geo"}
    assert all(Filter(e, fields).match(document) for e in accepts)
    assert not Filter("_geoRadius(43.7, 1.44, 1000)", fields).match(document)


# -- settings ---------------------------------------------------------------------------------


def test_settings_are_documented_and_complete(built: MeiliBackend, fake: FakeMeilisearch) -> None:
    shops = fake.indexes["t_shops"].settings
    offers = fake.indexes["t_offers"].settings
    assert shops["rankingRules"] == offers["rankingRules"]  # federation needs the same rules
    assert shops["rankingRules"][:3] == ["words", "typo", "sort"]
    assert {
        "city_key",
        "category_key",
        "platforms_key",
        "services_key",
        "open_slots",
        "topics",
        "_geo",
    } <= set(shops["filterableAttributes"])
    assert {"city", "category", "platforms", "services", "doc_type"} <= set(
        shops["filterableAttributes"]
    )
    assert shops["sortableAttributes"] == ["_geo"] == offers["sortableAttributes"]
    assert shops["searchableAttributes"][:2] == ["names", "names_stem"]
    assert offers["searchableAttributes"][:2] == ["title", "title_stem"]
    assert shops["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert "de" in shops["stopWords"] and "la" in shops["stopWords"]
    assert set(shops["synonyms"]["boucher"]) >= {"boucherie"}
    assert "caviste" in shops["synonyms"]["cave vin"]  # stop words out, plurals merged
    assert offers["distinctAttribute"] == "product_key" and shops["distinctAttribute"] is None
    assert fake.indexes["t_shops"].primary_key == "uid"


# -- documents, tasks, swaps ------------------------------------------------------------------


def test_rebuild_fills_new_indexes_then_swaps_them_in_one_task(
    backend: MeiliBackend, fake: FakeMeilisearch
) -> None:
    backend.rebuild(sample_entities()[:3])
    fake.requests.clear()
    assert backend.rebuild(sample_entities()) == 12
    creations = [r.body["uid"] for r in fake.calls("POST", "/indexes")]
    assert creations == ["t_shops_next", "t_offers_next"]
    additions = fake.calls("POST", "/indexes/[^/]+/documents")
    assert {r.path for r in additions} == {
        "/indexes/t_shops_next/documents",
        "/indexes/t_offers_next/documents",
    }
    assert all(r.params == {"primaryKey": "uid"} for r in additions)
    for request in additions:
        for document in request.body:
            assert document["uid"] == document_uid(document["id"])
            if document.get("lat") is not None:
                assert document["_geo"] == {"lat": document["lat"], "lng": document["lon"]}
    (swap,) = fake.calls("POST", "/swap-indexes")
    assert swap.body == [
        {"indexes": ["t_shops", "t_shops_next"]},
        {"indexes": ["t_offers", "t_offers_next"]},
    ]
    # The swap comes after every document task, and the old generation is dropped after it.
    order = [(r.method, r.path) for r in fake.requests]
    assert order.index(("POST", "/swap-indexes")) > max(
        i for i, (m, p) in enumerate(order) if p.endswith("/documents")
    )
    assert {r.path for r in fake.calls("DELETE", "/indexes/.*")} == {
        "/indexes/t_shops_next",
        "/indexes/t_offers_next",
    }
    assert set(fake.indexes) == {"t_shops", "t_offers"}
    assert backend.count() == 12
    assert all(r.path.startswith("/tasks/") for r in fake.calls("GET", "/tasks/\\d+"))


def test_a_failed_task_raises_with_its_error_and_keeps_the_live_index(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    fake.fail_next(
        "documentAdditionOrUpdate", "invalid_document_geo_field", "The `_geo` field is invalid."
    )
    with pytest.raises(
        MeiliTaskError, match="invalid_document_geo_field: The `_geo` field is invalid"
    ):
        built.rebuild(sample_entities()[:2])
    assert not fake.calls("POST", "/swap-indexes")
    assert set(fake.indexes) == {"t_shops", "t_offers"}  # the half-built ones are dropped
    assert built.count() == 12
    fake.fail_next("settingsUpdate", "invalid_settings_ranking_rules", "bad rule")
    fresh = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    with pytest.raises(
        MeiliTaskError, match=r"task \d+ \(settingsUpdate on t_shops\) failed: invalid_settings"
    ):
        fresh.upsert(sample_entities()[:1])


def test_upsert_replaces_a_shop_and_all_its_offers(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
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
    assert built.upsert([renamed, renamed]) == 2  # as the embedded backend counts them
    (delete,) = fake.calls("POST", "/indexes/t_offers/documents/delete")
    assert delete.body == {"filter": 'entity_id IN ["ent-boul-blagnac"]'}
    offers = [
        d
        for d in fake.indexes["t_offers"].documents.values()
        if d["entity_id"] == "ent-boul-blagnac"
    ]
    assert [d["title"] for d in offers] == ["Chocolatine"]
    assert built.get("ent-boul-blagnac")["names"] == ["Maison Martin"]  # type: ignore[index]


def test_delete_removes_shops_and_offers_by_filter(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    assert built.delete(["ent-boul-capitole", "ent-unknown"]) == 1
    assert built.delete([]) == 0
    paths = {r.path for r in fake.calls("POST", "/indexes/.*/documents/delete")}
    assert paths == {"/indexes/t_shops/documents/delete", "/indexes/t_offers/documents/delete"}
    assert built.get("ent-boul-capitole") is None
    assert built.count() == 11
    assert not any(
        d["entity_id"] == "ent-boul-capitole" for d in fake.indexes["t_offers"].documents.values()
    )


def test_get_and_count_need_nothing_but_search(built: MeiliBackend, fake: FakeMeilisearch) -> None:
    document = built.get("ent-fromage")
    assert document is not None and set(document) == set(SHOP_FIELDS)
    assert document["platforms"] == ["toutoulouse", "tous-occitariens"]
    (request,) = fake.calls("POST", "/indexes/t_shops/search")
    assert request.body["filter"] == 'entity_id IN ["ent-fromage"]'
    assert request.body["attributesToRetrieve"] == list(SHOP_FIELDS)
    assert built.get("nope") is None
    assert built.count() == 12
    assert not fake.calls("GET", "/indexes/.*")  # neither documents.get nor stats.get


def test_field_lists_match_the_documents() -> None:
    shop, *offers = entity_documents(sample_entities()[0])
    assert set(SHOP_FIELDS) == set(shop)
    assert set(OFFER_FIELDS) == set(offers[0])


# -- searches ---------------------------------------------------------------------------------


def test_one_federated_request_answers_shops_and_offers(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    answer = built.search(SearchQuery(text="croissants", city="Toulouse", page=2, per_page=5))
    body = last_search(fake)
    assert body["federation"] == {
        "offset": 5,
        "limit": 5,
        "facetsByIndex": {
            "t_shops": ["city", "category", "platforms", "services", "doc_type"],
            "t_offers": ["doc_type"],
        },
    }
    shops, offers = body["queries"]
    assert shops["indexUid"] == "t_shops" and offers["indexUid"] == "t_offers"
    assert shops["q"] == offers["q"] == "croissant"  # plurals merged, as in the *_stem fields
    assert shops["matchingStrategy"] == "all"
    assert shops["filter"] == ['city_key = "toulouse"'] == offers["filter"]
    assert shops["federationOptions"] == {"weight": 1.0}
    assert offers["federationOptions"]["weight"] < 1.0
    assert shops["attributesToRetrieve"] == list(SHOP_FIELDS)
    assert answer.query.page == 2


def test_the_answer_is_split_by_index_with_totals_from_the_facets(built: MeiliBackend) -> None:
    answer = built.search(SearchQuery(text="croissant", per_page=50))
    assert {o.title for o in answer.offers} == {"Croissant pur beurre", "Croissant aux amandes"}
    assert answer.offers_total == 2 and answer.total == len(answer.hits) == 0
    assert {o.shop_name for o in answer.offers} == {"Boulangerie du Capitole", "Boulangerie Martin"}
    listing = built.search(SearchQuery(city="Toulouse", per_page=50))
    assert listing.total == 6 and len(listing.hits) == 6 and listing.offers == []
    assert listing.facets["city"] == {"Toulouse": 6}
    assert sum(listing.facets["category"].values()) == 6


def test_filters_radius_open_now_and_distance_sort(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    at = datetime(2025, 6, 3, 10, 7)  # a Tuesday
    answer = built.search(
        SearchQuery(
            text="boulangerie ",
            postcode="31000",
            category="Boulangerie",
            platform="geolocal31",
            services=["click_and_collect", "Livraison"],
            open_now=True,
            at=at,
            lat=CAPITOLE[0],
            lon=CAPITOLE[1],
            radius_m=2500,
            sort="distance",
        )
    )
    shops = last_search(fake)["queries"][0]
    assert shops["filter"] == [
        'postcode_key = "31000"',
        'category_key = "boulangerie"',
        'platforms_key = "geolocal31"',
        'services_key = "click and collect"',
        'services_key = "livraison"',
        "open_slots IN [" + ", ".join(f'"{t}"' for t in tokens_at(at)) + "]",
        f"_geoRadius({CAPITOLE[0]}, {CAPITOLE[1]}, 2500.0)",
    ]
    assert shops["sort"] == [f"_geoPoint({CAPITOLE[0]}, {CAPITOLE[1]}):asc"]
    assert shops["q"] == "boulangerie "  # finished word: no prefix
    assert answer.total == 0  # no shop offers both services
    near = built.search(SearchQuery(lat=CAPITOLE[0], lon=CAPITOLE[1], radius_m=3000, per_page=50))
    assert {h.entity_id for h in near.hits} == {
        "ent-boul-capitole",
        "ent-fromage",
        "ent-boul-carmes",
        "ent-boucherie",
    }
    assert all(h.distance_m is not None and h.distance_m <= 3000 for h in near.hits)


def test_interests_split_the_shops_query_without_hiding_any(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    answer = built.search(SearchQuery(city="Toulouse", interests=["fromage"], per_page=50))
    first, rest = last_search(fake)["queries"]
    interest = first["filter"][-1]
    assert 'topics = "fromagerie"' in interest and 'topics = "fromage"' in interest
    assert rest["filter"][-1] == f"NOT ({interest})"
    assert first["federationOptions"]["weight"] > rest["federationOptions"]["weight"]
    assert [h.entity_id for h in answer.hits][0] == "ent-fromage"
    assert answer.total == 6 and len(answer.hits) == 6


def test_numbers_are_exact_and_stop_words_are_dropped(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    built.search(SearchQuery(text="boulangeries de 31000 "))
    assert last_search(fake)["queries"][0]["q"] == 'boulangerie "31000" '


def test_searching_before_any_index_exists_answers_empty(backend: MeiliBackend) -> None:
    answer = backend.search(SearchQuery(text="pain"))
    assert answer.total == 0 and answer.hits == [] and backend.count() == 0


# -- keys -------------------------------------------------------------------------------------


def test_the_search_key_can_only_search_and_is_reused(
    built: MeiliBackend, fake: FakeMeilisearch
) -> None:
    key = built.search_key()
    assert key != MASTER_KEY
    (created,) = fake.calls("POST", "/keys")
    assert created.body["actions"] == ["search"]
    assert sorted(created.body["indexes"]) == ["t_offers", "t_shops"]
    assert created.body["expiresAt"] is None
    assert built.search_key() == key
    assert len(fake.calls("POST", "/keys")) == 1
    token = built.tenant_token(
        datetime.now(UTC) + timedelta(hours=1), 'platforms_key = "toutoulouse"'
    )
    assert token.count(".") == 2 and MASTER_KEY not in token


# -- configuration ----------------------------------------------------------------------------


def test_open_backend_needs_meili_url(tmp_path: Path, fake: FakeMeilisearch) -> None:
    settings = Settings(data_dir=tmp_path, search_backend="meilisearch")
    with pytest.raises(ConfigurationError, match="MEILI_URL"):
        open_backend(settings)
    bad = Settings(data_dir=tmp_path, search_backend="meilisearch", MEILI_URL="localhost:7700")
    with pytest.raises(ConfigurationError, match="MEILI_URL must be an http"):
        open_backend(bad)
    good = Settings(
        data_dir=tmp_path,
        search_backend="meilisearch",
        MEILI_URL=fake.url,
        MEILI_MASTER_KEY=MASTER_KEY,
    )
    backend = open_backend(good)
    assert isinstance(backend, MeiliBackend)
    assert backend.count() == 0


def test_each_thread_has_its_own_client(built: MeiliBackend, fake: FakeMeilisearch) -> None:
    """Web workers search from a thread pool while the pipeline writes. The official client
    rewrites one shared header dict for every request (Content-Type set for a POST, removed for
    a GET), so a client shared between threads can send a POST without its Content-Type, which
    Meilisearch refuses: each thread gets its own."""
    clients: list[object] = []
    errors: list[BaseException] = []

    def keep_searching() -> None:
        clients.append(built.client)
        for _ in range(20):
            try:
                built.search(SearchQuery(text="pain"))
                built.count()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

    readers = [threading.Thread(target=keep_searching) for _ in range(3)]
    for reader in readers:
        reader.start()
    built.upsert(sample_entities()[:4])
    for reader in readers:
        reader.join()
    assert errors == []
    assert len({id(c) for c in [*clients, built.client]}) == 4
    assert built.client is built.client


def test_every_route_the_backend_uses_is_checked_against_the_openapi_document(
    backend: MeiliBackend, fake: FakeMeilisearch
) -> None:
    if fake.api is None:
        pytest.skip("shared/data/meilisearch/open-api-1.15.2.json is absent beside the repository")
    backend.rebuild(sample_entities())
    backend.upsert(sample_entities()[:2])
    backend.delete(["ent-fromage"])
    backend.search(SearchQuery(text="pain", interests=["fromage"], lat=43.6, lon=1.44))
    backend.get("ent-boul-capitole")
    backend.count()
    backend.tenant_token(datetime.now(UTC) + timedelta(hours=1))
    routes = set()
    for request in fake.requests:
        route = fake.api.route(request.method, request.path)
        assert route is not None, f"{request.method} {request.path}"
        routes.add(f"{route.method.upper()} {route.template}")
    assert routes == {
        "GET /indexes/{indexUid}",
        "POST /indexes",
        "DELETE /indexes/{indexUid}",
        "PATCH /indexes/{indexUid}/settings",
        "POST /indexes/{indexUid}/documents",
        "POST /indexes/{indexUid}/documents/delete",
        "POST /indexes/{indexUid}/documents/fetch",
        "POST /indexes/{indexUid}/search",
        "POST /swap-indexes",
        "POST /multi-search",
        "GET /tasks/{taskUid}",
        "GET /keys",
        "POST /keys",
        "GET /keys/{uidOrKey}",
    }

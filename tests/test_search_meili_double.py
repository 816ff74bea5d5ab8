"""The Meilisearch double behaves as the documentation says, and the backend copes with it.

The double (``search_meili_fake``, matching and ranking in ``search_meili_engine``) is held to
the official OpenAPI document; here its documented behaviours are checked one by one (typos
by word length, last-word prefix, synonyms, distinct, maxTotalHits, geo sort, key actions and
tenant tokens), then the whole behavioural suite of ``test_search_behaviour`` runs on it, as it
runs on a real server when ``MEILI_URL`` is set.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from aggregator.models import OfferRecord
from aggregator.settings import Settings
from search import (
    ConfigurationError,
    MeiliBackend,
    MeiliReadOnlyError,
    SearchBackend,
    SearchQuery,
    Synonyms,
    open_backend,
)
from search.query import MAX_HITS

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests import search_meili_engine as engine
    from tests.search_meili_fake import MASTER_KEY, FakeMeilisearch, serve_meilisearch
    from tests.search_meili_openapi import MeiliOpenAPI, find_document
    from tests.test_search_behaviour import *  # noqa: F403 - the suite, run on the double
    from tests.test_search_sample import make_entity, sample_entities
except ImportError:
    import search_meili_engine as engine  # type: ignore[no-redef]
    from search_meili_fake import (  # type: ignore[no-redef]
        MASTER_KEY,
        FakeMeilisearch,
        serve_meilisearch,
    )
    from search_meili_openapi import MeiliOpenAPI, find_document  # type: ignore[no-redef]
    from test_search_behaviour import *  # type: ignore[no-redef]  # noqa: F403
    from test_search_sample import make_entity, sample_entities  # type: ignore[no-redef]

SYNONYMS_FILE = Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml"


@pytest.fixture
def fake() -> Iterator[FakeMeilisearch]:
    if MeiliOpenAPI.load() is None:
        pytest.skip("shared/data/meilisearch/open-api-1.15.2.json is absent beside the repository")
    with serve_meilisearch() as server:
        yield server
    assert server.violations == [], "requests or answers that do not follow the documented API"


@pytest.fixture
def empty(fake: FakeMeilisearch) -> Iterator[SearchBackend]:
    """The behavioural suite's backend, on the double (overrides the suite's fixture)."""
    synonyms = Synonyms.load(SYNONYMS_FILE)
    backend = MeiliBackend(fake.url, MASTER_KEY, synonyms=synonyms, index_prefix="t")
    yield backend
    backend.drop()
    assert fake.refused == []


def shop_index(fake: FakeMeilisearch, documents: list[dict[str, object]], **settings: object):
    """A raw index on the double, written through the official client with the master key."""
    client = meilisearch.Client(fake.url, MASTER_KEY)
    uid = f"raw{uuid.uuid4().hex[:6]}"
    client.wait_for_task(client.create_index(uid, {"primaryKey": "id"}).task_uid)
    index = client.index(uid)
    client.wait_for_task(index.update_settings(settings).task_uid)
    client.wait_for_task(index.add_documents(documents).task_uid)
    return index


def titles(found: dict[str, object]) -> list[str]:
    return [hit["title"] for hit in found["hits"]]  # type: ignore[index,union-attr]


# -- the documented matching rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "word", "typos"),
    [
        ("pian", "pain", None),  # 4 letters: no typo allowed
        ("fromge", "fromage", 1),  # 6 letters: one
        ("fromgae", "fromage", 1),  # a swap of neighbours is one typo
        ("bromage", "fromage", None),  # a first-letter typo counts two
        ("boulangrie", "boulangerie", 1),
        ("boulongrei", "boulangerie", None),  # three edits: over any budget
        ("boulngrie", "boulangerie", 2),  # 9 letters: two
    ],
)
def test_typos_by_word_length(query: str, word: str, typos: int | None) -> None:
    budget = engine.typo_budget(query, {})
    assert engine.typos(query, word, budget, prefix=False) == typos


def test_only_the_last_word_is_a_prefix(fake: FakeMeilisearch) -> None:
    index = shop_index(
        fake,
        [{"id": 1, "title": "boulangerie martin"}, {"id": 2, "title": "boulanger martinez"}],
    )
    every = {"matchingStrategy": "all"}
    assert titles(index.search("boul martin", every)) == []  # "boul" is finished: no prefix
    # "martin" is finished (not a prefix of "martinez"); "boul" is being typed
    assert titles(index.search("martin boul", every)) == ["boulangerie martin"]
    assert titles(index.search("martin boul ", every)) == []  # a trailing space finishes it
    # "last", the default strategy, drops words from the end until something matches
    assert titles(index.search("martin boul ")) == ["boulangerie martin"]


def test_synonyms_stop_words_and_typo_ranking(fake: FakeMeilisearch) -> None:
    index = shop_index(
        fake,
        [{"id": 1, "title": "la boucherie"}, {"id": 2, "title": "bouchere"}],
        synonyms={"boucher": ["boucherie"]},
        stopWords=["la"],
        rankingRules=["words", "typo", "proximity", "attribute", "sort", "exactness"],
    )
    assert titles(index.search("boucher ")) == ["la boucherie", "bouchere"]  # 0 typo, then 1
    found = index.search("la boucher ", {"showRankingScore": True})
    scores = [hit["_rankingScore"] for hit in found["hits"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1]


def test_distinct_thins_hits_but_not_facets_or_totals(fake: FakeMeilisearch) -> None:
    documents = [
        {"id": 1, "title": "croissant", "product": "p1", "platform": "a"},
        {"id": 2, "title": "croissant", "product": "p1", "platform": "b"},
        {"id": 3, "title": "croissant amandes", "product": "p2", "platform": "a"},
    ]
    index = shop_index(
        fake, documents, distinctAttribute="product", filterableAttributes=["platform"]
    )
    found = index.search("croissant", {"facets": ["platform"]})
    assert len(found["hits"]) == 2  # one per product
    assert found["estimatedTotalHits"] == 3
    assert found["facetDistribution"] == {"platform": {"a": 2, "b": 1}}


def test_no_query_reaches_past_max_total_hits(fake: FakeMeilisearch) -> None:
    documents = [{"id": i, "title": f"pain {i}"} for i in range(30)]
    index = shop_index(fake, documents, pagination={"maxTotalHits": 25})
    assert len(index.search("pain", {"offset": 20, "limit": 10})["hits"]) == 5
    assert index.search("pain", {"offset": 25})["hits"] == []


def test_geo_sort_comes_after_text_relevance(fake: FakeMeilisearch) -> None:
    documents = [
        {"id": 1, "title": "fromagerie", "_geo": {"lat": 43.70, "lng": 1.44}},
        {"id": 2, "title": "fromagerie", "_geo": {"lat": 43.61, "lng": 1.44}},
        {"id": 3, "title": "fromagrie", "_geo": {"lat": 43.60, "lng": 1.44}},
        {"id": 4, "title": "fromagerie"},
    ]
    index = shop_index(
        fake,
        documents,
        sortableAttributes=["_geo"],
        rankingRules=["words", "typo", "sort", "proximity", "attribute", "exactness"],
    )
    found = index.search("fromagerie", {"sort": ["_geoPoint(43.6, 1.44):asc"]})
    assert [hit["id"] for hit in found["hits"]] == [2, 1, 4, 3]  # typos first, then distance
    assert found["hits"][0]["_geoDistance"] < found["hits"][1]["_geoDistance"]


# -- keys -------------------------------------------------------------------------------------


def test_a_search_key_can_search_and_nothing_else(fake: FakeMeilisearch) -> None:
    backend = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    backend.rebuild(sample_entities())
    key = backend.search_key()
    client = meilisearch.Client(fake.url, key)
    assert client.index("t_shops").search("", {"limit": 1})["hits"]
    for attempt in (
        lambda: client.index("t_shops").add_documents([{"uid": "x"}]),
        lambda: client.index("t_shops").update_settings({"rankingRules": ["words"]}),
        lambda: client.index("t_shops").get_document("x"),
        lambda: client.create_key({"actions": ["*"], "indexes": ["*"], "expiresAt": None}),
        lambda: meilisearch.Client(fake.url, "not-a-key").index("t_shops").search(""),
    ):
        with pytest.raises(MeilisearchApiError) as refused:
            attempt()
        assert refused.value.code == "invalid_api_key"
    shop_index(fake, [{"id": 1, "title": "x"}])  # another index: the key does not reach it
    other = next(uid for uid in fake.indexes if uid.startswith("raw"))
    with pytest.raises(MeilisearchApiError):
        client.index(other).search("")
    fake.refused.clear()


def test_the_web_holds_only_a_search_key(fake: FakeMeilisearch, tmp_path: Path) -> None:
    worker = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    worker.rebuild(sample_entities())
    key = worker.search_key()
    web = MeiliBackend(fake.url, None, index_prefix="t", search_key=key)
    wanted = worker.search(SearchQuery(text="boulangerie"))
    assert web.search(SearchQuery(text="boulangerie")).hits == wanted.hits
    assert web.get("ent-fromage") is not None and web.count() == 12
    sent = len(fake.requests)
    with pytest.raises(MeiliReadOnlyError, match="MEILI_MASTER_KEY"):
        web.upsert(sample_entities()[:1])
    with pytest.raises(MeiliReadOnlyError):
        web.delete(["ent-fromage"])
    assert len(fake.requests) == sent  # refused before anything was sent
    assert all(r.headers["authorization"] == f"Bearer {key}" for r in fake.requests[sent - 3 :])
    settings = Settings(
        data_dir=tmp_path, search_backend="meilisearch", MEILI_URL=fake.url, MEILI_SEARCH_KEY=key
    )
    opened = open_backend(settings)  # indexes buylocal_*: the key (t_* only) may not search them
    assert isinstance(opened, MeiliBackend) and opened.read_only
    same = Settings(
        data_dir=tmp_path,
        search_backend="meilisearch",
        MEILI_URL=fake.url,
        MEILI_MASTER_KEY=MASTER_KEY,
        MEILI_SEARCH_KEY=MASTER_KEY,
    )
    with pytest.raises(ConfigurationError, match="search-only key"):
        open_backend(same)
    assert fake.refused == []


def test_a_tenant_token_searches_within_its_rules(fake: FakeMeilisearch) -> None:
    worker = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    worker.rebuild(sample_entities())
    token = worker.tenant_token(
        datetime.now(UTC) + timedelta(hours=1), 'platforms_key = "geolocal31"'
    )
    web = MeiliBackend(fake.url, None, index_prefix="t", search_key=token)
    found = {hit.entity_id for hit in web.search(SearchQuery(text="boulangerie")).hits}
    assert found == {"ent-boul-capitole", "ent-boul-blagnac"}
    forged = token[: token.rindex(".") + 1] + "AAAA"
    with pytest.raises(MeilisearchApiError):
        MeiliBackend(fake.url, None, index_prefix="t", search_key=forged).count()
    fake.refused.clear()


# -- the consequences -------------------------------------------------------------------------


def test_a_product_on_two_platforms_counts_once(fake: FakeMeilisearch) -> None:
    shop = make_entity(
        "ent-two",
        "Boulangerie Double",
        "boulangerie",
        "Toulouse",
        "31000",
        43.6,
        1.44,
        platforms=("toutoulouse", "geolocal31"),
        offers=[("Chocolatine", 1.3)],
    )
    again = shop.offers[0].model_dump()
    again.update(platform="geolocal31", source_id="other", shop_source_id="ent-two-geolocal31")
    shop.offers.append(OfferRecord.model_validate(again))
    backend = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    backend.rebuild([shop])
    answer = backend.search(SearchQuery(text="chocolatine"))
    assert len(answer.offers) == 1 and answer.offers_total == 1


def test_pages_stop_at_max_total_hits(fake: FakeMeilisearch) -> None:
    shops = [
        make_entity(f"ent-{i}", f"Boutique {i}", "epicerie", "Albi", "81000", None, None)
        for i in range(MAX_HITS + 30)
    ]
    backend = MeiliBackend(fake.url, MASTER_KEY, index_prefix="t")
    backend.rebuild(shops)
    last = backend.search(SearchQuery(city="Albi", page=50, per_page=20))
    assert last.total == MAX_HITS + 30 and len(last.hits) == 20 and last.pages == 50
    past = backend.search(SearchQuery(city="Albi", page=60, per_page=20))
    federation = fake.calls("POST", "/multi-search")[-1].body["federation"]
    assert federation["offset"] == MAX_HITS and federation["limit"] == 0
    assert past.hits == [] and past.total == MAX_HITS + 30 and past.facets["city"]
    assert fake.indexes["t_shops"].settings["pagination"] == {"maxTotalHits": MAX_HITS}


# -- the OpenAPI document and the client ------------------------------------------------------


def test_the_openapi_document_catches_what_the_server_refuses() -> None:
    api = MeiliOpenAPI.load()
    if api is None:
        pytest.skip(f"no OpenAPI document beside the repository (looked from {find_document()})")
    assert api.version == "1.15.2"
    assert api.request_problems("POST", "/multi-search", {}, {"queries": [{"q": "x"}]})
    assert api.request_problems("PATCH", "/indexes/a/settings", {}, {"rankingRule": []})
    assert api.request_problems("POST", "/indexes/a/search", {}, {"q": 3})
    assert api.request_problems("GET", "/indexes/a/documents/b", {"fieldz": "a"}, None)
    assert api.request_problems("PUT", "/multi-search", {}, {})
    task = {"taskUid": 1, "status": "done", "type": "indexCreation", "enqueuedAt": "x"}
    assert api.response_problems("POST", "/indexes", 202, task)
    assert api.actions("POST", "/indexes/a/documents") >= {"documents.add"}
    assert "search" not in api.actions("POST", "/swap-indexes")


def test_the_client_version_admitted_can_federate() -> None:
    parameters = inspect.signature(meilisearch.Client.multi_search).parameters
    assert "federation" in parameters
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"meilisearch>=0.31.6,<1"' in pyproject  # 0.31.6: the first with federation

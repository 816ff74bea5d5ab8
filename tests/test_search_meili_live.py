"""What the double asserts about Meilisearch, asserted again on a real server when there is one.

Runs when ``MEILI_URL`` points at a server (``MEILI_MASTER_KEY`` if it has one; key tests need
one), on indexes of its own that are dropped afterwards; skipped otherwise, with that reason.
The same properties are checked on the loopback double by ``test_search_meili_double``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from search import MeiliBackend, MeiliReadOnlyError, SearchQuery
from search.meilisearch.query import multi_search_body
from search.query import MAX_HITS

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.search_meili_openapi import MeiliOpenAPI
    from tests.test_search_sample import make_entity, sample_entities
except ImportError:
    from search_meili_openapi import MeiliOpenAPI  # type: ignore[no-redef]
    from test_search_sample import make_entity, sample_entities  # type: ignore[no-redef]

MEILI_URL = os.environ.get("MEILI_URL")
MASTER_KEY = os.environ.get("MEILI_MASTER_KEY")

pytestmark = pytest.mark.skipif(
    not MEILI_URL, reason="MEILI_URL is not set: no Meilisearch server to run these on"
)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def worker(prefix: str) -> Iterator[MeiliBackend]:
    assert MEILI_URL
    backend = MeiliBackend(MEILI_URL, MASTER_KEY, index_prefix=prefix)
    yield backend
    backend.drop()


@pytest.fixture
def search_key(worker: MeiliBackend) -> Iterator[str]:
    if not MASTER_KEY:
        pytest.skip("MEILI_MASTER_KEY is not set: a server without a master key has no keys")
    key = worker.search_key()
    yield key
    worker.client.delete_key(key)


def test_the_real_answer_follows_the_openapi_document(worker: MeiliBackend) -> None:
    api = MeiliOpenAPI.load()
    if api is None:
        pytest.skip("shared/data/meilisearch/open-api-1.15.2.json is absent beside the repository")
    worker.rebuild(sample_entities())
    query = SearchQuery(text="boulangerie", lat=43.6, lon=1.44, sort="distance")
    queries, federation = multi_search_body(query, worker.names, worker.synonyms)
    body = {"queries": queries, "federation": federation}
    assert api.request_problems("POST", "/multi-search", {}, body) == []
    answer = worker.client.multi_search(queries, federation=federation)
    assert api.response_problems("POST", "/multi-search", 200, answer) == []


def test_a_search_key_searches_and_cannot_write(
    worker: MeiliBackend, search_key: str, prefix: str
) -> None:
    assert MEILI_URL
    worker.rebuild(sample_entities())
    web = MeiliBackend(MEILI_URL, None, index_prefix=prefix, search_key=search_key)
    assert (
        web.search(SearchQuery(text="boulangerie")).hits
        == worker.search(SearchQuery(text="boulangerie")).hits
    )
    assert web.get("ent-fromage") == worker.get("ent-fromage") and web.count() == 12
    with pytest.raises(MeiliReadOnlyError):
        web.upsert(sample_entities()[:1])
    raw = meilisearch.Client(MEILI_URL, search_key).index(worker.names.shops)
    with pytest.raises(MeilisearchApiError) as refused:
        raw.add_documents([{"uid": "x"}])
    assert refused.value.code == "invalid_api_key"


def test_a_tenant_token_searches_within_its_rules(
    worker: MeiliBackend, search_key: str, prefix: str
) -> None:
    assert MEILI_URL
    worker.rebuild(sample_entities())
    token = worker.tenant_token(
        datetime.now(UTC) + timedelta(hours=1), 'platforms_key = "geolocal31"'
    )
    web = MeiliBackend(MEILI_URL, None, index_prefix=prefix, search_key=token)
    found = {hit.entity_id for hit in web.search(SearchQuery(text="boulangerie")).hits}
    assert found == {"ent-boul-capitole", "ent-boul-blagnac"}


def test_pages_stop_at_max_total_hits(worker: MeiliBackend) -> None:
    shops = [
        make_entity(f"ent-{i}", f"Boutique {i}", "epicerie", "Albi", "81000", None, None)
        for i in range(MAX_HITS + 30)
    ]
    worker.rebuild(shops)
    last = worker.search(SearchQuery(city="Albi", page=50, per_page=20))
    assert last.total == MAX_HITS + 30 and len(last.hits) == 20 and last.pages == 50
    past = worker.search(SearchQuery(city="Albi", page=60, per_page=20))
    assert past.hits == [] and past.total == MAX_HITS + 30


def test_a_product_on_two_platforms_counts_once(worker: MeiliBackend) -> None:
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
    again = shop.offers[0].model_copy(update={"platform": "geolocal31", "source_id": "other"})
    shop.offers.append(again)
    worker.rebuild([shop])
    answer = worker.search(SearchQuery(text="chocolatine"))
    assert len(answer.offers) == 1 and answer.offers_total == 1

"""``GET /api/search`` exposes the whole query model: filters, place, interests, facets, pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.webserver import serve_app

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_search_sample import CAPITOLE, sample_entities
except ImportError:
    from test_search_sample import CAPITOLE, sample_entities  # type: ignore[no-redef]

CONFIG = Path(__file__).resolve().parents[1] / "config"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("api")
    runtime = Runtime(Settings(data_dir=root / "var", config_dir=CONFIG))
    runtime.backend.rebuild(sample_entities())
    with serve_app(runtime) as base, httpx.Client(base_url=base) as client:
        yield client
    runtime.close()


def get(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(answer: dict[str, Any]) -> set[str]:
    return {hit["entity_id"] for hit in answer["hits"]}


def test_words_find_shops_and_offers(client: httpx.Client) -> None:
    answer = get(client, q="croissant")
    assert {o["title"] for o in answer["offers"]} == {
        "Croissant pur beurre",
        "Croissant aux amandes",
    }
    assert answer["offers_total"] == 2 and answer["total"] == 0
    assert set(answer) >= {"hits", "offers", "facets", "total", "offers_total", "took_ms", "query"}


def test_filters(client: httpx.Client) -> None:
    assert ids(get(client, q="boulangerie", city="Toulouse")) == {
        "ent-boul-capitole",
        "ent-boul-carmes",
    }
    assert ids(get(client, postcode="31700")) == {"ent-boul-blagnac", "ent-coiffeur"}
    assert ids(get(client, platform="click-n-co")) == {"ent-caviste", "ent-boul-ramonville"}
    assert ids(get(client, category="caviste")) == {"ent-caviste"}
    both = {"ent-boul-capitole", "ent-boul-blagnac"}
    assert ids(get(client, q="boulangerie", services=["click_and_collect"])) == both
    assert ids(get(client, q="boulangerie", services="click_and_collect,livraison")) == set()


def test_open_now_uses_paris_time(client: httpx.Client) -> None:
    # Every sample shop opens Mo-Sa 07:00-19:30; whether one is open depends on the clock.
    answer = get(client, open_now="true")
    assert answer["query"]["open_now"] is True
    assert answer["total"] in (0, 12)


def test_place_radius_and_distance_sort(client: httpx.Client) -> None:
    near = get(client, lat=CAPITOLE[0], lon=CAPITOLE[1], radius_m=3000)
    assert ids(near) == {"ent-boul-capitole", "ent-fromage", "ent-boul-carmes", "ent-boucherie"}
    ordered = get(client, lat=CAPITOLE[0], lon=CAPITOLE[1], sort="distance", per_page=3)
    assert [h["entity_id"] for h in ordered["hits"]][0] == "ent-boul-capitole"
    assert len(ordered["hits"]) == 3 and ordered["total"] == 12


def test_interests_and_facets(client: httpx.Client) -> None:
    personal = get(client, city="Toulouse", interests="fromage")
    assert personal["hits"][0]["entity_id"] == "ent-fromage" and personal["total"] == 6
    only_city = get(client, city="Toulouse", facets="city")
    assert set(only_city["facets"]) == {"city"}
    assert get(client, facets="")["facets"] == {}
    page_two = get(client, page=2, per_page=5)
    assert len(page_two["hits"]) == 5 and page_two["query"]["page"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 43.6},  # lat without lon
        {"sort": "distance"},  # no place to sort from
        {"radius_m": 1000},
        {"facets": "colour"},
        {"per_page": 500},
        {"sort": "price"},
    ],
)
def test_invalid_combinations_are_422(client: httpx.Client, params: dict[str, Any]) -> None:
    assert client.get("/api/search", params=params).status_code == 422


def test_the_page_still_searches(client: httpx.Client) -> None:
    response = client.get("/", params={"q": "boulangrie", "ville": "Toulouse"})
    assert response.status_code == 200
    assert "Boulangerie du Capitole" in response.text

"""The demo platforms served on loopback: the Toutoulouse API, the Click'n CO export, the pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest

from aggregator.demo import DemoPlatforms, demo_registrations, generate_catalogue, ground_truth
from aggregator.demo.platforms import CLICKNCO_COLUMNS, TOUTOULOUSE_API_KEY
from aggregator.models import ConnectorRegistration

SHOPS = "/toutoulouse/api/v1/shops"
EXPORT = "/clickn_co/export.csv"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoPlatforms]:
    with DemoPlatforms(generate_catalogue(200, seed=5)) as platforms:
        yield platforms


@pytest.fixture()
def client(demo: DemoPlatforms) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.base_url, timeout=5) as http:
        yield http


def test_pagination_totals_add_up(client: httpx.Client, demo: DemoPlatforms) -> None:
    first = client.get(SHOPS, params={"page": 1, "per_page": 37}).json()
    meta = first["meta"]
    assert meta["total"] == len(demo.listings["toutoulouse"]) > 37
    assert meta["total_pages"] == -(-meta["total"] // 37)
    ids = []
    for page in range(1, meta["total_pages"] + 2):
        data = client.get(SHOPS, params={"page": page, "per_page": 37}).json()["data"]
        assert len(data) == (0 if page > meta["total_pages"] else min(37, meta["total"] - len(ids)))
        ids += [record["id"] for record in data]
    assert len(ids) == len(set(ids)) == meta["total"]
    assert sorted(ids) == sorted(r["id"] for r in demo.listings["toutoulouse"])


def test_records_have_the_documented_shape(client: httpx.Client) -> None:
    body = client.get(SHOPS).json()
    assert body["meta"]["per_page"] == 50 and body["meta"]["page"] == 1
    record = body["data"][0]
    assert {
        "id",
        "name",
        "address",
        "phone",
        "email",
        "website",
        "category",
        "geo",
        "opening_hours",
        "description",
        "services",
        "url",
        "products",
    } <= set(record)
    assert set(record["address"]) == {"street", "postcode", "city"}
    assert not any(key.startswith("_") for key in record)
    product = next(p for r in body["data"] for p in r["products"])
    assert {"id", "name", "price", "currency", "available", "url"} == set(product)
    assert client.get(product["url"]).status_code == 200


def test_page_size_is_capped_and_bad_parameters_refused(client: httpx.Client) -> None:
    assert client.get(SHOPS, params={"per_page": 500}).json()["meta"]["per_page"] == 100
    assert len(client.get(SHOPS, params={"per_page": 500}).json()["data"]) == 100
    assert client.get(SHOPS, params={"page": 0}).status_code == 400
    assert client.get(SHOPS, params={"page": "two"}).status_code == 400


def test_api_key_is_optional_but_checked(client: httpx.Client) -> None:
    assert client.get(SHOPS, headers={"X-Api-Key": TOUTOULOUSE_API_KEY}).status_code == 200
    refused = client.get(SHOPS, headers={"X-Api-Key": "guess"})
    assert refused.status_code == 401 and "X-Api-Key" in refused.json()["error"]


def test_csv_export_is_cp1252_semicolons_with_a_multiline_row(
    client: httpx.Client, demo: DemoPlatforms
) -> None:
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=windows-1252"
    assert "é".encode("cp1252") in response.content
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    text = response.content.decode("cp1252")
    assert text.startswith(";".join(CLICKNCO_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == len(demo.listings["clickn_co"])
    assert any("\n" in row["description"] for row in rows)
    assert any("," in row["latitude"] for row in rows)
    truth = dict(
        (sid, tid)
        for p, sid, tid in ground_truth(demo.catalogue, demo.listings)
        if p == "clickn_co"
    )
    assert {row["identifiant"] for row in rows} == set(truth)


def test_export_honours_etag_and_last_modified(client: httpx.Client) -> None:
    first = client.get(EXPORT)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(EXPORT, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(EXPORT, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(EXPORT, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(EXPORT, headers={"If-Modified-Since": modified}).status_code == 304
    head = client.head(EXPORT)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)


def test_an_update_changes_etag_and_date() -> None:
    with DemoPlatforms(generate_catalogue(60, seed=2)) as demo, httpx.Client() as http:
        before = http.get(demo.base_url + EXPORT)
        demo.update("clickn_co", demo.listings["clickn_co"][1:])
        stale = http.get(demo.base_url + EXPORT, headers={"If-None-Match": before.headers["etag"]})
        assert stale.status_code == 200 and stale.headers["etag"] != before.headers["etag"]
        assert stale.headers["last-modified"] != before.headers["last-modified"]
        assert len(stale.content.decode("cp1252").splitlines()) < len(before.text.splitlines())


def test_every_listing_link_has_a_page(client: httpx.Client, demo: DemoPlatforms) -> None:
    links = [r["url"] for r in demo.listings["toutoulouse"][:10]]
    links += [r["lien"] for r in demo.listings["clickn_co"][:10]]
    links += [
        r["url"]
        for p in ("tousoccitariens", "dans_ma_zone", "geolocal31")
        for r in demo.listings[p][:3]
    ]
    for link in links:
        assert link.startswith(demo.base_url)
        page = client.get(link)
        assert page.status_code == 200, link
        assert page.headers["content-type"] == "text/html; charset=utf-8"


def test_pages_escape_merchant_text() -> None:
    catalogue = generate_catalogue(40, seed=9)
    for shop in catalogue.shops:
        shop.name = "<script>alert('x')</script> & Fils"
        shop.description = 'Ouvert <img src=x onerror="alert(1)">. Fermé le lundi.'
    with DemoPlatforms(catalogue) as demo, httpx.Client() as http:
        for link in (demo.listings["toutoulouse"][0]["url"], demo.listings["clickn_co"][0]["lien"]):
            page = http.get(link).text
            assert "<script" not in page.lower() and "<img" not in page
            assert "&lt;" in page and "&amp; Fils" in page


def test_unknown_paths_are_404_and_health_is_ok(client: httpx.Client) -> None:
    for path in (
        "/",
        "/nope",
        "/toutoulouse/boutique/inconnue-1",
        "/clickn_co/commerce/cnc-999999",
        "/toutoulouse/api/v1/shop",
        "/clickn_co/export.json",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/healthz").json() == {"status": "ok"}


def test_requests_are_not_logged(client: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
    client.get(SHOPS)
    client.get("/missing")
    assert capfd.readouterr().err == ""


def test_start_and_stop_release_the_port() -> None:
    demo = DemoPlatforms(generate_catalogue(30, seed=1)).start()
    url = demo.base_url + "/healthz"
    assert httpx.get(url).status_code == 200
    demo.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)


def test_registrations_point_at_the_demo(demo: DemoPlatforms) -> None:
    registrations = demo_registrations(demo.base_url)
    assert [(r.platform, r.kind) for r in registrations] == [
        ("toutoulouse", "json_api"),
        ("clickn_co", "csv"),
    ]
    api, export = registrations
    assert api.url == demo.base_url + SHOPS and export.url == demo.base_url + EXPORT
    assert api.options["pagination"]["size"] == 100 and api.options["records_path"] == "data"
    assert api.mapping["lat"] == "geo.lat" and api.mapping["offer.price"] == "price"
    assert export.options == {"delimiter": ";", "encoding": "cp1252"}
    assert set(export.mapping.values()) <= set(CLICKNCO_COLUMNS)
    for registration in registrations:  # round-trips as a YAML registration would
        assert ConnectorRegistration.model_validate(registration.model_dump()) == registration

"""The search page over HTTP against ``aggregator serve`` with a fixed clock: counts, pages,
chips, places, cards, the shop page and error reports."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from aggregator.web.public import reports
from tests.public_site import Site, served_demo


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_demo(tmp_path_factory.mktemp("page"), n_shops=150) as site:
        yield site


class Cards(HTMLParser):
    """The result cards of a page: id, status, distance, badges, listings, links."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, Any]] = []
        self.summary = ""
        self.anchors: list[dict[str, str | None]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "li" and "card" in classes:
            self.cards.append(
                {
                    "id": a["data-entity-id"],
                    "kind": "shop" if "hit" in classes else "products",
                    "distance_m": a.get("data-distance-m"),
                    "status": "",
                    "badges": [],
                    "listings": [],
                    "tel": None,
                }
            )
        if tag == "a":
            self.anchors.append(a)
            if self.cards and "tel" in classes:
                self.cards[-1]["tel"] = a["href"]
            if self.cards and "listing" in classes:
                self.cards[-1]["listings"].append({"platform": a["data-platform"], "name": ""})
                self._in = "listing"
        if tag == "p" and "status" in classes:
            self._in = "status"
        if tag == "h2" and a.get("id") == "compte":
            self._in = "summary"
        if tag == "li" and self._in == "badges":
            self._in = "badge"
        if tag == "ul" and "badges" in classes:
            self._in = "badges"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "h2", "a") or (tag == "ul" and self._in == "badges"):
            self._in = None if self._in != "badge" else self._in
        if tag == "li" and self._in == "badge":
            self._in = "badges"

    def handle_data(self, data: str) -> None:
        if self._in == "status":
            self.cards[-1]["status"] += data
        elif self._in == "summary":
            self.summary += data
        elif self._in == "badge":
            self.cards[-1]["badges"].append(data.strip())
        elif self._in == "listing":
            self.cards[-1]["listings"][-1]["name"] += data


def registered_names(site: Site) -> dict[str, str]:
    """Platform -> name, as the registrations give them; one feed per shop shares a prefix."""
    names = {r.platform: str(r.name) for r in site.runtime.store.list_connectors()}
    names["dans_ma_zone"] = "Dans ma zone"
    return names


def page(site: Site, **params: Any) -> Cards:
    response = httpx.get(site.base_url + "/", params=params, follow_redirects=True)
    assert response.status_code == 200
    cards = Cards()
    cards.feed(response.text)
    cards.summary = " ".join(cards.summary.split())
    return cards


def api(site: Site, **params: Any) -> dict[str, Any]:
    return httpx.get(site.base_url + "/api/search", params=params).json()  # type: ignore[no-any-return]


def test_shops_and_products_are_counted_apart(site: Site) -> None:
    answer = api(site, q="pain")
    assert answer["total"] and answer["offers_total"]
    shown = page(site, q="pain")
    assert f"{answer['total']} commerces" in shown.summary
    assert f"{answer['offers_total']} produits" in shown.summary
    shops = [c for c in shown.cards if c["kind"] == "shop"]
    assert len(shops) == min(answer["total"], 24) or answer["offers_total"]


def test_a_page_past_the_last_goes_to_the_last(site: Site) -> None:
    first = page(site, ville="Toulouse")
    last = int(re.search(r"page 1 sur (\d+)", first.summary).group(1))  # type: ignore[union-attr]
    response = httpx.get(site.base_url + "/", params={"ville": "Toulouse", "page": last + 3})
    assert response.status_code == 303
    assert response.headers["location"] == f"/?ville=Toulouse&page={last}"
    shown = page(site, ville="Toulouse", page=last + 3)
    assert f"page {last} sur {last}" in shown.summary and shown.cards


def test_cards_name_platforms_once_each_with_working_links(site: Site) -> None:
    html = httpx.get(site.base_url + "/", params={"q": "boulangerie"}).text
    assert 'href="#"' not in html
    shown = page(site, q="boulangerie")
    names = registered_names(site)
    assert shown.cards and all(name != slug for slug, name in names.items())
    for card in shown.cards:
        platforms = [listing["platform"] for listing in card["listings"]]
        assert len(platforms) == len(set(platforms)), card
        for listing in card["listings"]:
            assert listing["name"] == names[listing["platform"]], listing
    listing_links = [a for a in shown.anchors if "listing" in (a.get("class") or "")]
    assert listing_links and all(
        (a["href"] or "").startswith(site.platforms_url) for a in listing_links
    )
    assert any(card["tel"] and card["tel"].startswith("tel:+33") for card in shown.cards)


def test_open_now_keeps_only_open_shops_at_the_fixed_clock(site: Site) -> None:
    every = page(site, q="boulangerie")
    open_now = page(site, q="boulangerie", ouvert="maintenant")
    expected = api(site, q="boulangerie", open_now="true")["total"]
    assert 0 < expected < int(every.summary.split()[0])
    assert open_now.summary.startswith(f"{expected} commerces")
    assert "ouverts maintenant" in open_now.summary
    assert all(c["status"].startswith("Ouvert · ferme à") for c in open_now.cards)
    assert any(c["status"].startswith("Fermé") for c in every.cards)


def test_open_on_a_day_and_hour(site: Site) -> None:
    # Monday 8:00: most bakeries of the demo are closed on Mondays.
    monday = page(site, q="boulangerie", jour="2026-12-07", heure="08:00")
    sunday = page(site, q="boulangerie", jour="2026-12-13", heure="18:00")
    assert "ouverts le lundi 7 décembre à 8 h" in monday.summary
    assert int(sunday.summary.split()[0]) < int(monday.summary.split()[0])
    christmas = httpx.get(site.base_url + "/", params={"q": "pain", "jour": "2026-12-25"}).text
    assert "Noël : jour férié" in christmas


@pytest.mark.parametrize(
    ("param", "service", "badge"),
    [
        ("retrait", "click_and_collect", "Retrait en boutique"),
        ("livraison", "delivery", "Livraison"),
        ("emporter", "takeaway", "À emporter"),
    ],
)
def test_service_chips_narrow_to_the_service(
    site: Site, param: str, service: str, badge: str
) -> None:
    expected = api(site, city="Toulouse", services=service)["total"]
    shown = page(site, ville="Toulouse", **{param: "1"})
    assert 0 < expected < api(site, city="Toulouse")["total"]
    assert shown.summary.startswith(f"{expected} commerce")
    shops = [c for c in shown.cards if c["kind"] == "shop"]
    assert shops and all(badge in c["badges"] for c in shops)


def test_distance_from_a_rounded_position_sorted(site: Site) -> None:
    shown = page(site, lat="43.60447", lon="1.44425", rayon="5", tri="distance")
    distances = [int(c["distance_m"]) for c in shown.cards]
    assert distances and all(d <= 5000 for d in distances)
    assert distances == sorted(distances)
    wider = page(site, lat="43.604", lon="1.444", rayon="20")
    assert int(wider.summary.split()[0]) > int(shown.summary.split()[0])
    html = httpx.get(site.base_url + "/", params={"lat": "43.60447", "lon": "1.44425"}).text
    assert 'value="43.604"' in html and "43.60447" not in html


def test_a_commune_or_postcode_from_the_catalogue(site: Site) -> None:
    html = httpx.get(site.base_url + "/", params={"pres": "blagnac", "rayon": "5"}).text
    assert "Près de Blagnac" in html
    shown = page(site, pres="31700", tri="distance")
    assert shown.cards and all(c["distance_m"] is not None for c in shown.cards)
    unknown = httpx.get(site.base_url + "/", params={"pres": "Atlantide"}).text
    assert "aucune commune du catalogue" in unknown


def shop_with_products(site: Site) -> str:
    offers = api(site, q="pain")["offers"]
    return str(offers[0]["entity_id"])


def test_shop_page_week_contact_products_and_sources(site: Site) -> None:
    answer = api(site, q="boulangerie", per_page=50)
    hit = next(h for h in answer["hits"] if h["phone"] and h["opening_hours"])
    html = httpx.get(f"{site.base_url}/boutique/{hit['entity_id']}").text
    assert '<table class="week">' in html and html.count("<tr") == 7
    assert 'class="today" aria-current="date"' in html and "Mardi" in html
    assert 'href="tel:+33' in html and "selon " in html
    assert 'href="#"' not in html
    products = httpx.get(f"{site.base_url}/boutique/{shop_with_products(site)}").text
    assert '<ul class="offers">' in products and " €" in products


def shown_a_while_ago(site: Site, entity_id: str, seconds: int = 10) -> str:
    """The signed stamp of a report form shown ``seconds`` ago (a person took that long)."""
    return reports.stamp(site.runtime, entity_id, int(time.time()) - seconds)


def test_error_report_is_stored_and_thanked(site: Site) -> None:
    entity_id = shop_with_products(site)
    url = f"{site.base_url}/boutique/{entity_id}/signaler"
    stamp = shown_a_while_ago(site, entity_id)
    sent = httpx.post(url, data={"champ": "phone", "message": "Le numéro a changé", "jeton": stamp})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/boutique/{entity_id}?signale=1#signaler"
    thanked = httpx.get(site.base_url + sent.headers["location"]).text
    assert "votre signalement est enregistré" in thanked
    stored = site.runtime.store.list_error_reports()
    assert any(
        r.entity_id == entity_id and r.field == "phone" and r.message == "Le numéro a changé"
        for r in stored
    )
    empty = httpx.post(url, data={"message": "   ", "jeton": stamp})
    assert empty.status_code == 400 and "erreur en quelques mots" in empty.text
    assert len(site.runtime.store.list_error_reports()) == len(stored)


def test_error_reports_keep_robots_out_and_say_why_to_people(site: Site) -> None:
    """The honeypot, the signed stamp (too soon, forged, for another shop), the field list,
    the links and duplicates: each answered in French, nothing stored but the first report."""
    entity_id, other = [h["entity_id"] for h in api(site, q="boulangerie")["hits"][:2]]
    url = f"{site.base_url}/boutique/{entity_id}/signaler"
    before = len(site.runtime.store.list_error_reports(None))
    form = httpx.get(f"{site.base_url}/boutique/{entity_id}").text
    shown = re.search(r'name="jeton" value="([^"]+)"', form)
    assert shown and 'name="adresse_web"' in form and 'tabindex="-1"' in form
    message = f"Horaires faux le samedi {time.time_ns()}"

    def send(**fields: str) -> httpx.Response:
        return httpx.post(url, data={"message": message, **fields})

    robot = send(jeton=shown_a_while_ago(site, entity_id), adresse_web="http://spam.example")
    assert robot.status_code == 303  # thanked: a robot learns nothing
    hasty = send(jeton=shown.group(1))  # sent the moment the page was shown
    assert hasty.status_code == 400 and "Envoi trop rapide" in hasty.text
    assert message in hasty.text  # the message is kept for a second try
    again = re.search(r'name="jeton" value="([^"]+)"', hasty.text)
    assert again  # with a fresh stamp
    for stamp in ("", "123.abc", shown_a_while_ago(site, other)):
        refused = send(jeton=stamp)
        assert refused.status_code == 400 and "Ce formulaire a expiré" in refused.text
    stamp = shown_a_while_ago(site, entity_id)
    assert "dans la liste" in send(jeton=stamp, champ="<script>").text
    links = " ".join(f"https://spam{n}.example" for n in range(3))
    assert "au plus 2 liens" in httpx.post(url, data={"message": links, "jeton": stamp}).text
    assert len(site.runtime.store.list_error_reports(None)) == before

    first, second = send(jeton=stamp), send(jeton=stamp, champ="")
    assert first.status_code == second.status_code == 303
    stored = [r for r in site.runtime.store.list_error_reports(None) if r.message == message]
    assert len(stored) == 1 and stored[0].entity_id == entity_id  # the duplicate was dropped
    assert message not in site.log_text()


def test_communes_are_one_facet_entry_each_shown_with_accents(site: Site) -> None:
    from search.analysis import key

    html = httpx.get(site.base_url + "/", params={"q": "labege"}).text
    cities = re.findall(r'<a href="/\?q=labege&amp;ville=[^"]*">([^<]+)</a>', html)
    assert cities and len({key(c) for c in cities}) == len(cities), cities
    if any(key(c) == "labege" for c in cities):
        assert "Labège" in cities and "Labege" not in html.split('id="resultats"')[1]


def test_shop_page_plans_the_shop_among_its_neighbours_and_links_every_platform(
    site: Site,
) -> None:
    hits = api(site, q="boulangerie", per_page=50)["hits"]
    hit = next(h for h in hits if h["lat"] is not None)
    html = httpx.get(f"{site.base_url}/boutique/{hit['entity_id']}").text
    plan = html.split('<figure class="map">')[1].split("</figure>")[0]
    assert plan.count('fill="#1f5c99"') == 1 and f'data-entity-id="{hit["entity_id"]}"' in plan
    assert re.search(r"<text [^>]*>\d+ (?:m|km)</text>", plan)  # the scale bar
    assert "http" not in plan.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no tile
    # Every listing of every shop has its link, schema.org pages and merchant feeds included.
    listings = [listing for h in hits for listing in h["listings"]]
    assert {"tousoccitariens", "dans_ma_zone"} <= {listing["platform"] for listing in listings}
    assert all(listing["url"].startswith("http://") for listing in listings)
    where = html.split("<h2>Où acheter</h2>")[1].split("</ul>")[0]
    assert where.count('<a class="listing"') == len({li["platform"] for li in hit["listings"]})


def test_page_api_and_index_show_one_golden_name_with_its_source(site: Site) -> None:
    """A shop some platform misspells: the search hit, the shop API and the page agree on the
    golden name, and the API says which record it came from."""
    hits = api(site, q="boulangerie", per_page=100)["hits"]
    spelled = [h for h in hits if len({li["name"] for li in h["listings"]}) > 1]
    assert spelled
    for hit in spelled:
        shop = httpx.get(f"{site.base_url}/api/shops/{hit['entity_id']}").json()
        name = shop["golden"]["name"]
        assert hit["name"] == name["value"]
        assert any(
            m["platform"] == name["platform"] and m["source_id"] == name["source_id"]
            for m in shop["members"]
        )
        html = httpx.get(f"{site.base_url}/boutique/{hit['entity_id']}").text
        heading = re.search(r"<h1>([^<]*)</h1>", html)
        assert heading and unescape(heading.group(1)) == name["value"]

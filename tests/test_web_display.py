"""What the pages show: communes, open status, week table, contact links, holidays."""

from __future__ import annotations

import math
from datetime import date, datetime

from aggregator.web.public.holidays import easter, holiday
from aggregator.web.public.spelling import commune_spellings, merged_facet
from aggregator.web.public.view import (
    mailto_href,
    open_status,
    phone_text,
    tel_href,
    web_url,
    week_table,
)
from search.opening_hours import PARIS

TUESDAY_10H = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)


def test_communes_counted_together_and_shown_with_accents() -> None:
    shown = commune_spellings(["Labege", "Labège", "Toulouse"])
    assert shown["labege"] == "Labège"
    assert merged_facet({"Labege": 12, "Labège": 3, "Toulouse": 20}, shown) == [
        ("Toulouse", 20),
        ("Labège", 15),
    ]


def test_open_status_never_guessed() -> None:
    hours = "Mo-Fr 06:30-19:30; Sa 07:00-13:00"
    assert open_status(hours, TUESDAY_10H).text == "Ouvert · ferme à 19 h 30"
    evening = datetime(2026, 12, 8, 20, 0, tzinfo=PARIS)
    assert open_status(hours, evening).text == "Fermé · ouvre demain à 6 h 30"
    saturday = datetime(2026, 12, 12, 14, 0, tzinfo=PARIS)
    assert open_status(hours, saturday).text == "Fermé · ouvre lundi à 6 h 30"
    assert open_status("We-Mo 07:00-13:30,15:30-19:30", TUESDAY_10H).text == (
        "Fermé · ouvre demain à 7 h"
    )
    for unknown in (None, "", "sur rendez-vous"):
        status = open_status(unknown, TUESDAY_10H)
        assert status.open is None and status.text == "Horaires inconnus"


def test_week_table_in_french_with_today_and_holidays() -> None:
    rows = week_table("Tu-Sa 07:00-19:30; Su 07:00-12:30", datetime(2026, 12, 22, 9, tzinfo=PARIS))
    assert rows is not None and [r.name for r in rows][:2] == ["lundi", "mardi"]
    assert rows[0].text == "Fermé" and rows[1].text == "7 h – 19 h 30" and rows[1].today
    assert rows[4].holiday == "Noël" and rows[6].text == "7 h – 12 h 30"
    assert week_table(None, TUESDAY_10H) is None


def test_public_holidays() -> None:
    assert easter(2026) == date(2026, 4, 5) and easter(2027) == date(2027, 3, 28)
    assert holiday(date(2026, 5, 14)) == "Ascension"
    assert holiday(date(2026, 5, 25)) == "Lundi de Pentecôte"
    assert holiday(date(2026, 7, 14)) == "Fête nationale"
    assert holiday(date(2026, 7, 15)) is None


def test_contact_links_only_safe_schemes() -> None:
    assert tel_href("+33 5 67 31 66 12") == "tel:+33567316612"
    assert tel_href("05 67 31 66 12") == "tel:0567316612" and tel_href("12") is None
    assert phone_text("+33567316612") == "05 67 31 66 12"
    assert mailto_href("a@b.fr") == "mailto:a@b.fr"
    assert mailto_href("a@b.fr?cc=x@y.fr") is None and mailto_href("nope") is None
    assert web_url("https://boulangerie.fr/") == "https://boulangerie.fr/"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "ftp://x.fr"):
        assert web_url(bad) is None


def test_plans_keep_proportions_labels_inside_and_a_round_scale() -> None:
    from aggregator.web.public.map import HEIGHT, WIDTH, Spot, draw, scale_bar

    # Toulouse's Capitole and a shop 1 km east, 1 km north: a square, so equal spans.
    lat, lon = 43.6045, 1.4440
    east = 1000 / (111_320 * math.cos(math.radians(lat)))
    spots = [
        Spot("a", "A", "Saint-Orens-de-Gameville", lat, lon, 1),
        Spot("b", "B", "Toulouse", lat + 1000 / 111_320, lon + east, 2),
    ]
    plan = draw(spots, focus="b")
    assert plan is not None and [p["id"] for p in plan["points"]] == ["a", "b"]  # focus last
    (a, b) = plan["points"]
    assert abs((b["x"] - a["x"]) - (a["y"] - b["y"])) < 1 and b["focus"] and not a["focus"]
    for label in plan["labels"]:
        half = len(label["name"]) * 6.5 / 2
        assert half <= label["x"] <= WIDTH - half and 0 < label["y"] < HEIGHT
    # 188 units for 1 km here: the bar is the longest round distance within 90 units.
    assert plan["scale"]["label"] == "200 m" and 30 < plan["scale"]["length"] <= 90
    assert scale_bar(1.0)["label"] == "100 km" and scale_bar(1e6)["label"] == "50 m"
    assert draw(spots[:1]) is None


def test_a_commune_spelt_two_ways_is_one_label_on_the_plan() -> None:
    from aggregator.web.public.map import Spot, draw

    lat, lon = 43.6, 1.5
    spots = [
        Spot("a", "A", "Quint Fonsegrives", lat, lon, 1),
        Spot("b", "B", "Quint-Fonsegrives", lat + 0.002, lon, 2),
        Spot("c", "C", "QUINT FONSEGRIVES", lat, lon + 0.002, 3),
        Spot("d", "D", "Balma", lat + 0.01, lon + 0.01, 4),
    ]
    plan = draw(spots)
    assert plan is not None
    assert sorted(label["name"] for label in plan["labels"]) == ["Balma", "Quint-Fonsegrives"]
    # The catalogue's spelling, when given, is the one shown.
    plan = draw(spots, communes={"balma": "Balma", "quint fonsegrives": "Quint-Fonsegrives"})
    assert plan is not None and len(plan["labels"]) == 2


def test_the_better_spelling_of_a_commune_wins() -> None:
    shown = commune_spellings(["LABEGE", "Labege", "Quint Fonsegrives", "Quint-Fonsegrives"])
    assert shown == {"labege": "Labege", "quint fonsegrives": "Quint-Fonsegrives"}
    assert commune_spellings(["LABÈGE", "Labege"])["labege"] == "LABÈGE"

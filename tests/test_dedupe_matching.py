"""Matching on a hand-made set of Toulouse-area shops listed by two or three platforms.

Names, numbers and SIRETs are invented (the phone numbers and SIRETs are only well-formed).
The variations are the ones real platforms show: legal forms, abbreviations, missing accents,
typos, phone formats, coordinates tens of metres apart, missing fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from aggregator.models import RecordKey, ShopRecord
from dedupe import MatchResult, Thresholds, evaluate, explain, match_shops

T, C, G = "toutoulouse", "clicknco", "geolocal31"

#: One record per block: "truth label | platform | source id | name", then indented
#: "field=value" items separated by " | " (geo=lat,lon; services=a,b).
TABLE = """
centre | toutoulouse | t1 | SARL Boulangerie du Centre
    address=12 bis av. Jean Jaurès | postcode=31000 | city=Toulouse | phone=05 61 22 33 44
    category=Boulangerie Pâtisserie | geo=43.6062,1.4490 | services=click_and_collect
centre | clicknco | c1 | Boulangerie du centre
    address=12B avenue Jean-Jaures | postcode=31000 | city=TOULOUSE | phone=+33 5 61 22 33 44
    category=boulangerie | geo=43.6064,1.4492 | services=livraison
centre | geolocal31 | g1 | Boulangerie du Centre
    address=12 bis avenue Jean Jaurès | postcode=31000 | phone=0561223344 | geo=43.6063,1.4491
lea | toutoulouse | t2 | L'Épicerie de Léa
    address=3 rue des Filatiers | postcode=31000 | phone=05 62 27 10 10
    email=contact@epicerie-lea.fr | category=Epicerie fine | geo=43.5998,1.4425
lea | clicknco | c2 | Epicerie de Lea
    address=3 r. des Filatiers | postcode=31000 | email=Contact@Epicerie-Lea.fr
    website=https://www.epicerie-lea.fr/ | category=Épicerie
carmes | toutoulouse | t3 | Fromagerie des Carmes
    address=Place des Carmes | postcode=31000 | phone=05 61 52 00 01 | category=Fromager
    geo=43.5975,1.4450
carmes | clicknco | c3 | Fromagerie des Carme
    address=pl. des Carmes | postcode=31000 | category=Crèmerie - Fromage | geo=43.5977,1.4453
# A chain: one name, three branches.
ange-strasbourg | toutoulouse | t4 | Boulangerie Ange
    address=45 bd de Strasbourg | postcode=31000 | phone=05 61 11 11 11 | category=Boulangerie
    geo=43.6089,1.4480
ange-strasbourg | clicknco | c4 | Boulangerie Ange
    address=45 boulevard de Strasbourg | postcode=31000 | phone=0561111111 | geo=43.6090,1.4482
ange-urss | toutoulouse | t5 | Boulangerie Ange
    address=8 avenue de l'URSS | postcode=31400 | phone=05 61 22 22 22 | category=Boulangerie
    geo=43.5800,1.4530
ange-urss | clicknco | c5 | BOULANGERIE ANGE
    address=8 av. de l'URSS | postcode=31400 | phone=05.61.22.22.22 | geo=43.5801,1.4531
ange-labege | clicknco | c6 | Boulangerie Ange
    address=2 rue de l'Autan | postcode=31670 | city=Labège | phone=05 61 33 33 33
    geo=43.5330,1.5330
# The same shop listed twice by one platform.
cyprien | toutoulouse | t7 | Cave Saint-Cyprien
    address=15 place Saint-Cyprien | postcode=31300 | phone=05 61 42 42 42 | category=Caviste
    geo=43.5980,1.4310
cyprien | toutoulouse | t7b | Cave St Cyprien
    address=15 pl. St-Cyprien | postcode=31300 | phone=05 61 42 42 42 | category=Caviste
cyprien | clicknco | c7 | La Cave Saint Cyprien
    address=15 place St Cyprien | postcode=31300 | category=Vins et spiritueux
    geo=43.5982,1.4312
arenes | toutoulouse | t8 | SELARL Pharmacie des Arènes
    address=20 av. de Grande-Bretagne | postcode=31300 | siret=442 030 912 00012
    category=Pharmacie
arenes | clicknco | c8 | Pharmacie des Arenes
    siret=44203091200012 | phone=05 61 59 00 00 | category=amenity=pharmacy
marie | toutoulouse | t9 | Les Fleurs de Marie
    address=30 rue d'Alsace-Lorraine | postcode=31000 | category=Fleuriste | geo=43.6030,1.4460
marie | clicknco | c9 | Fleurs de Marie
    postcode=31000 | category=fleuriste | geo=43.6032,1.4462
paul | toutoulouse | t10 | Chez Paul
    address=4 rue des Lois | postcode=31000 | phone=05 61 44 55 66 | category=Restaurant
    geo=43.6010,1.4400
paul | clicknco | c10 | Restaurant Chez Paul
    address=4, rue des Lois | postcode=31000 | phone=0561445566 | category=Restaurant
napoli | toutoulouse | t11 | Pizzeria Bella Napoli
    address=27 rue Pargaminières | postcode=31000 | website=bellanapoli-toulouse.fr
    category=Pizzeria
napoli | clicknco | c11 | Bella Napoli
    address=27 r Pargaminieres | postcode=31000 | category=pizzas
    website=http://www.bellanapoli-toulouse.fr/menu
coiffure | toutoulouse | t12 | Salon Hair du Temps
    address=9 rue Bayard | postcode=31000 | phone=05 61 62 00 00 | category=Coiffure
    geo=43.6100,1.4500
# Neighbours: next door, different shops.
librairie | toutoulouse | t13 | Librairie des Arts
    address=50 rue Gambetta | postcode=31000 | phone=05 61 21 00 00 | category=Librairie
    geo=43.6040,1.4410
bijouterie | clicknco | c13 | Bijouterie Gambetta
    address=52 rue Gambetta | postcode=31000 | phone=05 61 21 99 99 | category=Bijoux
    geo=43.6041,1.4411
# One generic name, two towns.
fournil-balma | toutoulouse | t14 | Le Fournil
    address=5 av. de Toulouse | postcode=31130 | city=Balma | phone=05 61 24 00 00
    geo=43.6110,1.4990
fournil-colomiers | clicknco | c14 | Le Fournil
    address=5 av. de Toulouse | postcode=31770 | city=Colomiers | geo=43.6110,1.3350
moulin | toutoulouse | t15 | GAEC de la Ferme du Moulin
    postcode=31450 | phone=06 12 34 56 78 | category=Producteur | geo=43.4580,1.5690
moulin | clicknco | c15 | Ferme du Moulin
    address=Chemin du Moulin | postcode=31450 | phone=+33612345678 | category=Vente à la ferme
"""


def parse_table(text: str) -> list[tuple[str, ShopRecord]]:
    """The records of a TABLE-like text with their truth labels."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for line in text.strip("\n").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            label, platform, source_id, name = (part.strip() for part in line.split(" | "))
            rows.append((label, {"platform": platform, "source_id": source_id, "name": name}))
            continue
        fields = rows[-1][1]
        for item in line.strip().split(" | "):
            key, _, value = item.partition("=")
            if key == "geo":
                fields["lat"], fields["lon"] = (float(v) for v in value.split(","))
            elif key == "services":
                fields["services"] = value.split(",")
            else:
                fields[key] = value
    return [(label, ShopRecord(**fields)) for label, fields in rows]


SAMPLES = parse_table(TABLE)
TRUTH = {record.key: label for label, record in SAMPLES}
RECORDS = [record for _, record in SAMPLES]


def shop(platform: str, source_id: str, name: str, **fields: Any) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)


def entity_of(result: MatchResult, platform: str, source_id: str) -> str:
    return result.assignments()[RecordKey(platform=platform, source_id=source_id)]


@pytest.fixture(scope="module")
def result() -> MatchResult:
    return match_shops(RECORDS)


def test_the_table_reads_as_intended() -> None:
    assert len(RECORDS) == 30 and len(set(TRUTH.values())) == 17
    first = RECORDS[0]
    assert (first.lat, first.lon, first.services) == (43.6062, 1.449, ["click_and_collect"])
    assert RECORDS[16].category == "amenity=pharmacy"


def test_every_record_in_exactly_one_entity(result: MatchResult) -> None:
    members = [key for entity in result.entities for key in entity.members]
    assert sorted(map(str, members)) == sorted(str(r.key) for r in RECORDS)
    for entity in result.entities:
        assert entity.members == sorted(entity.members, key=str)
        assert [(x.platform, x.source_id) for x in entity.listings] == [
            (m.platform, m.source_id) for m in entity.members
        ]
        assert entity.offers == []


def test_f1_is_perfect_on_the_toulouse_set(result: MatchResult) -> None:
    scores = evaluate(result.assignments(), TRUTH)
    assert scores["f1"] == 1.0, scores
    assert scores["bcubed_f1"] == 1.0, scores
    assert len(result.entities) == len(set(TRUTH.values()))


def test_chain_branches_stay_apart(result: MatchResult) -> None:
    branches = {entity_of(result, p, s) for p, s in [(T, "t4"), (T, "t5"), (C, "c6")]}
    assert len(branches) == 3


def test_a_record_bridging_two_branches_does_not_glue_them() -> None:
    # Phone of the Strasbourg branch, address of the URSS branch: a data-entry mix-up.
    bridge = shop(
        G,
        "g9",
        "Boulangerie Ange",
        address="8 avenue de l'URSS",
        postcode="31400",
        phone="05 61 11 11 11",
    )
    result = match_shops([*RECORDS, bridge])
    assert entity_of(result, T, "t4") != entity_of(result, T, "t5")
    assert entity_of(result, G, "g9") in {entity_of(result, T, "t4"), entity_of(result, T, "t5")}
    assert result.stats["refused_merges"] >= 1


def test_same_platform_duplicates_merge(result: MatchResult) -> None:
    assert entity_of(result, T, "t7") == entity_of(result, T, "t7b") == entity_of(result, C, "c7")


def test_neighbours_and_namesakes_stay_apart(result: MatchResult) -> None:
    assert entity_of(result, T, "t13") != entity_of(result, C, "c13")
    assert entity_of(result, T, "t14") != entity_of(result, C, "c14")


def test_weak_evidence_goes_to_review() -> None:
    a = shop(
        T,
        "p1",
        "Primeur Arnaud",
        address="14 rue Louis Plana",
        postcode="31500",
        category="Primeur",
        lat=43.6120,
        lon=1.4650,
    )
    b = shop(C, "p2", "Primeur Arnaud", postcode="31500", city="Toulouse", category="primeur")
    result = match_shops([a, b])
    assert len(result.entities) == 2
    assert len(result.candidates) == 1
    candidate = result.candidates[0]
    assert Thresholds().lower <= candidate.probability < Thresholds().upper
    assert candidate.explanation["fields"]["name"]["level"] == "exact"
    assert candidate.explanation["same_entity"] is False
    looser = match_shops([a, b], thresholds=Thresholds(upper=0.6, lower=0.3))
    assert len(looser.entities) == 1 and not looser.candidates


def test_explain_gives_per_field_detail() -> None:
    detail = explain(RECORDS[0], RECORDS[1])
    fields = detail["fields"]
    assert {"name", "address", "distance", "phone", "email", "website", "siret", "category"} <= set(
        fields
    )
    assert fields["phone"]["level"] == "exact"
    assert fields["phone"]["values"] == [["+33561223344"], ["+33561223344"]]
    assert fields["name"]["values"] == ["boulangerie du centre", "boulangerie du centre"]
    assert fields["distance"]["level"] == "<=50m"
    assert fields["email"]["level"] == "missing" and fields["email"]["weight"] == 0
    assert fields["phone"]["weight"] > 10
    assert detail["probability"] > 0.999
    total = detail["prior_weight"] + sum(f["weight"] for f in fields.values())
    assert total == pytest.approx(detail["match_weight"], abs=0.01)
    apart = explain(RECORDS[7], RECORDS[9])  # two Boulangerie Ange branches
    assert apart["fields"]["name"]["level"] == "exact"
    assert apart["probability"] < 0.01
    assert apart["conflict_weight"] <= -4


def test_stats(result: MatchResult) -> None:
    stats = result.stats
    assert stats["records"] == len(RECORDS)
    assert stats["entities"] == len(result.entities)
    assert stats["review_pairs"] == len(result.candidates)
    assert 0 < stats["merged_pairs"] <= stats["candidate_pairs"]
    assert stats["seconds"] >= 0


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate record keys"):
        match_shops([RECORDS[0], RECORDS[0]])


def test_nothing_in_nothing_out() -> None:
    result = match_shops([])
    assert result.entities == [] and result.candidates == []

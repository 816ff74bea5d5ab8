"""Golden records: agreement first, then completeness, platform priority, record key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aggregator.models import RecordKey, ShopRecord
from dedupe import GOLDEN_FIELDS, match_shops

T, C, G = "toutoulouse", "clicknco", "geolocal31"

BAKERY = [
    ShopRecord(
        platform=T,
        source_id="t1",
        name="SARL Boulangerie du Centre",
        address="12 bis av. Jean Jaurès",
        postcode="31000",
        city="Toulouse",
        phone="05 61 22 33 44",
        category="Boulangerie Pâtisserie",
        lat=43.6062,
        lon=1.4490,
        services=["click_and_collect"],
        opening_hours="Mo-Sa 07:00-19:30",
    ),
    ShopRecord(
        platform=C,
        source_id="c1",
        name="Boulangerie du centre",
        address="12B avenue Jean-Jaures",
        postcode="31000",
        city="TOULOUSE",
        phone="+33 5 61 22 33 44",
        category="boulangerie",
        lat=43.6064,
        lon=1.4492,
        services=["livraison", "click_and_collect"],
        siret="80112345600015",
        website="https://www.boulangerie-du-centre.fr/",
        description="Pain au levain.",
    ),
    ShopRecord(
        platform=G,
        source_id="g1",
        name="Boulangerie du Centre",
        address="12 bis avenue Jean Jaurès",
        postcode="31000",
        phone="0561223344",
        email="Contact@Boulangerie-du-Centre.fr",
        lat=43.6063,
        lon=1.4491,
    ),
]


def test_golden_record_survivorship_and_provenance() -> None:
    (entity,) = match_shops(BAKERY).entities
    golden = entity.golden
    assert set(golden.fields) == set(GOLDEN_FIELDS)
    assert golden.value("phone") == "+33561223344"
    assert golden.value("postcode") == "31000"
    assert golden.value("category") == "boulangerie"
    assert golden.value("siret") == "80112345600015"
    assert golden.value("email") == "contact@boulangerie-du-centre.fr"
    assert golden.value("website") == "https://www.boulangerie-du-centre.fr/"
    # All three addresses read "12 bis avenue jean jaures": the longest spelling is shown.
    assert golden.value("address") == "12 bis avenue Jean Jaurès"
    assert golden.fields["address"].platform == G
    # All three names agree once normalised; the spelling two of them use, without "SARL".
    assert golden.value("name") == "Boulangerie du Centre"
    assert golden.value("services") == ["click_and_collect", "livraison"]
    assert golden.fields["services"].source_id == "c1"
    lat, lon = golden.fields["lat"], golden.fields["lon"]
    assert (lat.platform, lat.source_id) == (lon.platform, lon.source_id)
    assert set(entity.names) == {
        "SARL Boulangerie du Centre",
        "Boulangerie du centre",
        "Boulangerie du Centre",
    }
    for item in golden.fields.values():
        assert RecordKey(platform=item.platform, source_id=item.source_id) in entity.members


def test_agreement_beats_length() -> None:
    records = [
        *BAKERY,
        ShopRecord(
            platform="autre",
            source_id="9",
            name="Boulangerie du Centre",
            address="12 bis av. Jean Jaurès",
            postcode="31000",
            phone="05 61 22 33 44",
            city="Toulouse (Haute-Garonne)",
        ),
    ]
    golden = match_shops(records).entities[0].golden
    # "toulouse" twice beats the longer "toulouse haute garonne" once.
    assert golden.value("city") in {"Toulouse", "TOULOUSE"}


def test_platform_priority_breaks_ties() -> None:
    pair = [
        ShopRecord(
            platform=T,
            source_id="t2",
            name="L'Épicerie de Léa",
            phone="05 62 27 10 10",
            category="Epicerie fine",
        ),
        ShopRecord(
            platform=C,
            source_id="c2",
            name="Epicerie de Lea",
            phone="0562271010",
            category="Épicerie",
        ),
    ]
    first = match_shops(pair, platform_priority={C: 10}).entities[0].golden
    second = match_shops(pair, platform_priority={T: 10}).entities[0].golden
    assert first.fields["category"].platform == C
    assert second.fields["category"].platform == T
    # Without priorities the longest name wins, whatever the order.
    assert match_shops(pair[::-1]).entities[0].golden.value("name") == "L'Épicerie de Léa"


def test_properly_cased_spelling_wins_over_shouting() -> None:
    shouting = [
        ShopRecord(
            platform=p, source_id="1", name="BOULANGERIE ANGE", phone="05 61 11 11 11", city=c
        )
        for p, c in ((T, "TOULOUSE CEDEX 9"), (G, "TOULOUSE"))
    ]
    proper = ShopRecord(
        platform=C, source_id="1", name="Boulangerie Ange", phone="0561111111", city="toulouse"
    )
    golden = match_shops([*shouting, proper]).entities[0].golden
    # Two members shout, one writes it properly: the proper spelling is shown, with its source.
    assert golden.value("name") == "Boulangerie Ange"
    assert golden.fields["name"].platform == C
    # No member writes the town properly: it is recased, "Cedex 9" dropped.
    assert golden.value("city") == "Toulouse"


def test_a_shouted_singleton_is_recased() -> None:
    record = ShopRecord(
        platform=T,
        source_id="9",
        name="SARL PHARMACIE DE LA BOUQUERIE",
        address="2 RUE ROQUE",
        city="CONDOM",
    )
    golden = match_shops([record]).entities[0].golden
    assert golden.value("name") == "Pharmacie de la Bouquerie"
    assert golden.value("address") == "2 Rue Roque"
    assert golden.value("city") == "Condom"


def test_a_one_field_address_is_shown_without_its_postcode_and_town() -> None:
    record = ShopRecord(
        platform=T, source_id="5", name="Épicerie Léa", address="3 r. des Filatiers 31000 TOULOUSE"
    )
    golden = match_shops([record]).entities[0].golden
    assert golden.value("address") == "3 r. des Filatiers"
    assert golden.value("postcode") == "31000"
    assert golden.value("city") == "Toulouse"
    twin = ShopRecord(
        platform=C,
        source_id="5",
        name="Epicerie Lea",
        address="3 rue des Filatiers",
        postcode="31000",
        city="Toulouse",
        phone="05 62 27 10 10",
    )
    both = match_shops([record, twin.model_copy(update={"phone": None})]).entities
    assert len(both) == 1
    # One address once normalised: the complete spelling is shown.
    assert both[0].golden.value("address") == "3 rue des Filatiers"


def test_recency_breaks_ties_after_priority() -> None:
    pair = [
        ShopRecord(platform=T, source_id="a", name="Fleurs de Marie", phone="0561000001",
                   category="Fleuriste"),
        ShopRecord(platform=C, source_id="b", name="Fleurs de Marie", phone="0561000001",
                   category="fleurs"),
    ]  # fmt: skip
    newer_c = {"toutoulouse:a": datetime(2026, 1, 1, tzinfo=UTC),
               "clicknco:b": datetime(2026, 3, 1, tzinfo=UTC)}  # fmt: skip
    golden = match_shops(pair, record_dates=newer_c).entities[0].golden
    assert golden.fields["name"].platform == C
    newer_t = {"toutoulouse:a": datetime(2026, 4, 1, tzinfo=UTC),
               "clicknco:b": datetime(2026, 3, 1, tzinfo=UTC)}  # fmt: skip
    assert match_shops(pair, record_dates=newer_t).entities[0].golden.fields["name"].platform == T


def _bakeries_elsewhere() -> list[ShopRecord]:
    """Other shops of the catalogue: they write "Boulangerie" and "Pizzeria" as most do."""
    return [
        ShopRecord(platform=G, source_id=f"g{n}", name=f"{kind} {town}", city=town)
        for n, (kind, town) in enumerate(
            [("Boulangerie", "Muret"), ("Boulangerie", "Albi"), ("Pizzeria", "Auch")], 10
        )
    ]


def test_a_lone_typo_gives_way_to_the_spelling_the_catalogue_uses() -> None:
    """Two records, one each: the name whose word no other record writes, a letter or two
    from a common word of the other spelling, loses; the value says which record it came
    from, even against platform priority and whichever record comes first."""
    for typo, right in (
        ("Boulanegrie Ange", "Boulangerie Ange"),
        ("Pizseria Roma", "Pizzeria Roma"),
    ):
        pair = [
            ShopRecord(platform=T, source_id="t9", name=typo, phone="05 61 99 88 77"),
            ShopRecord(platform=C, source_id="c9", name=right, phone="0561998877"),
        ]
        for records in (pair, pair[::-1]):
            result = match_shops([*records, *_bakeries_elsewhere()], platform_priority={T: 10})
            (entity,) = [e for e in result.entities if len(e.members) == 2]
            name = entity.golden.fields["name"]
            assert (name.value, name.platform, name.source_id) == (right, C, "c9")
            assert typo in entity.names  # every spelling still finds the shop


def test_rare_words_on_both_sides_are_no_typo() -> None:
    """Neither spelling is written elsewhere: nothing says which is the slip, so the usual
    ties decide (here platform priority)."""
    pair = [
        ShopRecord(platform=T, source_id="t8", name="Au Péché Mginon", phone="05 61 99 88 66"),
        ShopRecord(platform=C, source_id="c8", name="Au Péché Mignon", phone="0561998866"),
    ]
    for priority, expected in (({T: 10}, "Au Péché Mginon"), ({C: 10}, "Au Péché Mignon")):
        (entity,) = match_shops(pair, platform_priority=priority).entities
        assert entity.golden.value("name") == expected


def test_a_name_keeps_its_accents_though_ascii_exports_drop_them() -> None:
    records = [
        ShopRecord(platform=p, source_id=f"{p}7", name=n, phone="05 61 99 88 55")
        for p, n in ((T, "Au Peche Mignon"), (G, "Au Peche Mignon"), (C, "Au Péché Mignon"))
    ]
    (entity,) = match_shops(records).entities
    name = entity.golden.fields["name"]
    assert (name.value, name.platform) == ("Au Péché Mignon", C)


def test_word_uses_follow_rows_appended_and_killed() -> None:
    """Counted once, then brought up to date: the same as counting the live rows afresh."""
    import numpy as np

    from dedupe.golden.typos import word_uses
    from dedupe.prepare.columns_of import prepare

    names = ["Boulangerie Ange", "Boulanegrie Ange", "Pizzeria Roma", "Boulangerie Marty"]
    prepared = prepare(
        [ShopRecord(platform=T, source_id=str(n), name=x) for n, x in enumerate(names)]
    )
    alive = np.ones(4, bool)
    assert word_uses(prepared, alive)["boulangerie"] == 2
    alive[0] = False
    assert word_uses(prepared, alive)["boulangerie"] == 1
    assert word_uses(prepared, alive)["ange"] == 1
    alive[0] = True
    assert word_uses(prepared, alive)["boulangerie"] == 2
    assert word_uses(prepared)["boulanegrie"] == 1  # every row when no mask is given


def _one_shop(*spellings: tuple[str, str, dict[str, str]]) -> Any:
    """The entity of records written by different platforms for one shop (one phone)."""
    records = [
        ShopRecord(platform=p, source_id=f"{p}6", phone="05 61 99 88 44", **fields)
        for p, _, fields in spellings
    ]
    (entity,) = match_shops(records).entities
    return entity


def test_an_address_keeps_its_accents_though_most_platforms_drop_them() -> None:
    """Spellings alike but for accents are one spelling written three times: the accented
    one is shown, from the record that wrote it."""
    entity = _one_shop(
        (T, "", {"name": "Le Fournil", "address": "12 rue de la Republique"}),
        (G, "", {"name": "Le Fournil", "address": "12 rue de la Republique"}),
        (C, "", {"name": "Le Fournil", "address": "12 rue de la République"}),
    )
    address = entity.golden.fields["address"]
    assert (address.value, address.platform) == ("12 rue de la République", C)


def test_accents_come_before_case_and_take_the_proper_case() -> None:
    """Capitals or lowercase with accents, proper case without: the accented letters in the
    proper case, for the name, the address and the town alike."""
    for accented, cased in (
        ({"name": "AU PÉCHÉ MIGNON", "address": "3 PLACE DU MARCHÉ", "city": "MONTRÉAL"},
         {"name": "Au Peche Mignon", "address": "3 Place du Marche", "city": "Montreal"}),
        ({"name": "au péché mignon", "address": "3 place du marché", "city": "montréal"},
         {"name": "Au Peche Mignon", "address": "3 Place du Marche", "city": "Montreal"}),
    ):  # fmt: skip
        for order in ((T, C), (C, T)):
            entity = _one_shop((order[0], "", accented), (order[1], "", cased))
            golden = entity.golden.fields
            assert golden["name"].value == "Au Péché Mignon"
            assert golden["address"].value == "3 Place du Marché"
            assert golden["city"].value == "Montréal"
            assert {golden[f].platform for f in ("name", "address", "city")} == {order[0]}


def test_proper_case_wins_among_spellings_with_the_same_accents() -> None:
    entity = _one_shop(
        (T, "", {"name": "BOULANGERIE DE LA RÉPUBLIQUE", "address": "8 RUE DE LA RÉPUBLIQUE"}),
        (G, "", {"name": "BOULANGERIE DE LA RÉPUBLIQUE", "address": "8 RUE DE LA RÉPUBLIQUE"}),
        (C, "", {"name": "Boulangerie de la République", "address": "8 rue de la République"}),
    )
    golden = entity.golden.fields
    assert (golden["name"].value, golden["name"].platform) == ("Boulangerie de la République", C)
    assert (golden["address"].value, golden["address"].platform) == ("8 rue de la République", C)


def test_spellings_that_differ_by_more_than_case_and_accents_stay_apart() -> None:
    """In an address "av." and "avenue" are not one spelling: the one most platforms write
    is shown, even without its accents; folding merges case, accents and spacing only."""
    entity = _one_shop(
        (T, "", {"name": "Le Fournil", "address": "12 av. Jean Jaures"}),
        (G, "", {"name": "Le Fournil", "address": "12  av. Jean Jaures"}),
        (C, "", {"name": "Le Fournil", "address": "12 avenue Jean Jaurès"}),
    )
    assert entity.golden.value("address") in ("12 av. Jean Jaures", "12  av. Jean Jaures")


def test_a_golden_record_built_directly_follows_the_same_rule() -> None:
    """The builder on its own (no matching): the town's accents and proper case together."""
    from dedupe.golden.records import golden_record
    from dedupe.prepare.columns_of import prepare

    records = [
        ShopRecord(platform=T, source_id="1", name="Épicerie Léa", city="SAINT-ÉTIENNE"),
        ShopRecord(platform=G, source_id="2", name="EPICERIE LEA", city="Saint-Etienne"),
        ShopRecord(platform=C, source_id="3", name="Epicerie Lea", city="Saint-Etienne"),
    ]
    golden = golden_record([0, 1, 2], prepare(records))
    assert golden.value("name") == "Épicerie Léa"
    assert golden.value("city") == "Saint-Étienne"
    assert golden.fields["city"].platform == T


def test_a_shop_listed_once_shows_its_record_as_a_cluster_of_several_would() -> None:
    """A one-record cluster takes a shorter path: its fields are what the generic choice
    gives the same record (here checked against the record listed twice, alike)."""
    record = ShopRecord(
        platform=T,
        source_id="t7",
        name="EURL FROMAGERIE DU MARCHÉ",
        address="4 place du Marché 31000 Toulouse Cedex 2",
        postcode="31000",
        phone="05 61 00 11 22",
        services=[" livraison ", "", "click_and_collect", "livraison"],
        description="Fromages affinés.",
    )
    (alone,) = match_shops([record]).entities
    twin = record.model_copy(update={"platform": C, "source_id": "c7"})
    (both,) = match_shops([record, twin]).entities
    shown = {name: field.value for name, field in alone.golden.fields.items()}
    assert shown == {name: field.value for name, field in both.golden.fields.items()}
    assert shown["city"] == "Toulouse"
    assert shown["name"] == "Fromagerie du Marché"
    assert shown["services"] == ["click_and_collect", "livraison"]
    assert "lat" not in shown and "lon" not in shown
    assert {field.source_id for field in alone.golden.fields.values()} == {"t7"}

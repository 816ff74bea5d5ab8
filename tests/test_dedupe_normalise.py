"""Normalisation of names, addresses, identifiers and categories, on French samples."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from dedupe import load_taxonomy, normalise_category
from dedupe.golden.casing import casing_rank, display_city, tidy
from dedupe.prepare.identifiers import (
    _parse_text,
    luhn_ok,
    normalise_email,
    normalise_phone,
    normalise_phones,
    normalise_siret,
    phone_digits,
    siret_is_valid,
    website_domain,
)
from dedupe.prepare.taxonomy import Taxonomy
from dedupe.prepare.text import fold
from dedupe.prepare.values import (
    display_name,
    name_and_words,
    normalise_city,
    normalise_name,
    normalise_postcode,
    parse_address,
    street_display,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SARL Boulangerie du Centre", "boulangerie du centre"),
        ("L'Épicerie de Léa", "epicerie de lea"),
        ("L’ÉPICERIE DE LÉA", "epicerie de lea"),
        ("Les Gourmandises de la Gatise", "gourmandises de la gatise"),
        ("Chez Paul", "paul"),
        ("Boulangerie Dupont S.A.R.L.", "boulangerie dupont"),
        ("GAEC de la Ferme du Moulin", "ferme du moulin"),
        ("SELARL Pharmacie des Arènes", "pharmacie des arenes"),
        ("Fruits & Légumes", "fruits et legumes"),
        ("Bœuf et Cœur EURL", "boeuf et coeur"),
        ("EARL La Ferme", "ferme"),
        ("Le Bar", "bar"),
        ("La", "la"),
        ("Boulangerie Martin SA", "boulangerie martin"),
        ("SAS du Pain et des Idées", "pain et des idees"),
    ],
)
def test_names(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("SARL Boulangerie du Centre", "Boulangerie du Centre"),
        ("Boulangerie Dupont S.A.R.L.", "Boulangerie Dupont"),
        ("GAEC de la Ferme du Moulin", "La Ferme du Moulin"),
        ("L'Épicerie de Léa", "L'Épicerie de Léa"),
        ("SAS", "SAS"),
    ],
)
def test_display_name_drops_only_the_legal_form(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


def test_fold_keeps_words_apart() -> None:
    assert fold("Crèmerie-Fromagerie  «Les Alpages»") == "cremerie fromagerie les alpages"
    assert fold(None) == ""


@pytest.mark.parametrize(
    ("raw", "number", "street"),
    [
        ("12 bis av. Jean Jaurès", "12 bis", "avenue jean jaures"),
        ("12B avenue Jean-Jaures", "12 bis", "avenue jean jaures"),
        ("Bd de Strasbourg", None, "boulevard strasbourg"),
        ("45, bd de Strasbourg", "45", "boulevard strasbourg"),
        ("3 r. des Filatiers", "3", "rue filatiers"),
        ("8 pl. St-Cyprien", "8", "place saint cyprien"),
        ("2 chem. de la Ramée", "2", "chemin ramee"),
        ("7 rte de Narbonne", "7", "route narbonne"),
        ("1 imp. des Lilas", "1", "impasse lilas"),
        ("14 all. Jean Jaurès", "14", "allee jean jaures"),
        ("14 Allées Jean Jaurès", "14", "allee jean jaures"),
        ("33 fg Bonnefoy", "33", "faubourg bonnefoy"),
        ("5 rue Ste-Ursule", "5", "rue sainte ursule"),
        ("10 ter rue Gambetta", "10 ter", "rue gambetta"),
        ("12-14 rue de Metz", "12", "rue metz"),
        ("12 et 14 rue de Metz", "12", "rue metz"),
        ("Lieu-dit Le Vignau", None, "le vignau"),
    ],
)
def test_addresses(raw: str, number: str | None, street: str) -> None:
    parsed = parse_address(raw)
    assert parsed is not None
    assert (parsed.number, parsed.street) == (number, street)


def test_address_drops_cedex_and_takes_the_postcode() -> None:
    parsed = parse_address("12 bd de Strasbourg 31000 Toulouse CEDEX 6")
    assert parsed is not None
    assert parsed.full == "12 boulevard strasbourg"
    assert parsed.postcode == "31000"
    assert parse_address("BP 1234") is None
    assert parse_address("  ") is None


def test_postcode_and_city() -> None:
    assert normalise_postcode("31000") == "31000"
    assert normalise_postcode(" 31 000 ") == "31000"
    assert normalise_postcode("1000") == "01000"
    assert normalise_postcode("310") is None
    assert normalise_postcode(None) is None
    assert normalise_city("TOULOUSE CEDEX 9") == "toulouse"
    assert normalise_city("St-Puy") == "saint puy"


@pytest.mark.parametrize(
    "raw", ["05 61 22 33 44", "+33 5 61 22 33 44", "0561223344", "05.61.22.33.44", "0033561223344"]
)
def test_french_phone_formats_meet_in_e164(raw: str) -> None:
    assert normalise_phone(raw, "FR") == "+33561223344"


def test_phones_invalid_several_and_foreign() -> None:
    assert normalise_phone("12 34", "FR") is None
    assert normalise_phone("non communiqué", "FR") is None
    assert normalise_phone("05 61 22 33 4", "FR") is None
    assert normalise_phones("05 61 22 33 44 / 06 12 34 56 78") == ("+33561223344", "+33612345678")
    # A Belgian shop's national number reads with the record's country.
    assert normalise_phone("02 555 12 34", "BE") == "+3225551234"
    assert normalise_phone("02 555 12 34", "FR") is None


def test_websites_reduce_to_the_shops_own_domain() -> None:
    assert website_domain("https://www.epicerie-lea.fr/boutique?x=1") == "epicerie-lea.fr"
    assert website_domain("epicerie-lea.fr") == "epicerie-lea.fr"
    assert website_domain("http://shop.epicerie-lea.fr/") == "epicerie-lea.fr"
    assert website_domain("www.lorigan-pizzeria.fr\n") == "lorigan-pizzeria.fr"
    assert website_domain("https://boulange.wixsite.com/ange") == "boulange.wixsite.com"
    assert website_domain("https://www.assoc.asso.fr") == "assoc.asso.fr"
    for social in (
        "https://www.facebook.com/boulangerieange",
        "https://fr-fr.facebook.com/x",
        "instagram.com/ange",
        "https://www.google.com/maps/place/x",
        "https://www.pagesjaunes.fr/pros/123",
    ):
        assert website_domain(social) is None
    assert website_domain("https://toutoulouse.fr/shop/12", ignored=["toutoulouse.fr"]) is None
    assert website_domain("contact@epicerie-lea.fr") is None
    assert website_domain("http://192.168.0.1/") is None


def test_email() -> None:
    assert normalise_email(" Contact@Epicerie-Lea.FR ") == "contact@epicerie-lea.fr"
    assert normalise_email("mailto:a.b@orange.fr") == "a.b@orange.fr"
    assert normalise_email("pas d'email") is None


def test_siret_luhn_and_la_poste() -> None:
    assert normalise_siret("442 030 912 00012") == "44203091200012"
    assert normalise_siret("44203091200013") is None  # Luhn fails
    assert normalise_siret("4420309120001") is None  # 13 digits
    assert siret_is_valid("35600000000048")  # La Poste head office: Luhn
    assert siret_is_valid("35600000012346")  # La Poste establishment: digit sum 30
    assert not siret_is_valid("35600000012345")


def test_taxonomy_maps_platform_labels() -> None:
    assert normalise_category("Boulangerie Pâtisserie") == "boulangerie"
    assert normalise_category("BOULANGERIE") == "boulangerie"
    assert normalise_category("Boucher Charcutier traiteur") == "boucherie"
    assert normalise_category("Cremerie - Fromage") == "fromagerie"
    assert normalise_category("Producteur viticole") == "cave"
    assert normalise_category("Producteur de pruneaux") == "producteur"
    assert normalise_category("Fruits et légumes") == "primeur"
    assert normalise_category("Caviste") == "caviste"
    assert normalise_category("Salon de coiffure") == "coiffure"
    assert normalise_category("Vêtements femme") == "vetements"
    assert normalise_category("shop=bakery") == "boulangerie"
    assert normalise_category("amenity=pharmacy") == "pharmacie"
    assert normalise_category("pizzeria") == "pizzeria"
    assert normalise_category("Astrophysique") is None
    assert normalise_category(None) is None


def test_taxonomy_file_is_complete_and_consistent() -> None:
    taxonomy = load_taxonomy()
    expected = [
        "boulangerie",
        "boucherie",
        "fromagerie",
        "epicerie",
        "primeur",
        "caviste",
        "fleuriste",
        "librairie",
        "coiffure",
        "restaurant",
        "pizzeria",
        "bar",
        "pharmacie",
        "vetements",
        "chaussures",
        "bijouterie",
        "opticien",
        "quincaillerie",
        "producteur",
        "ferme",
        "cave",
        "artisanat",
        "beaute",
        "sport",
        "jouets",
        "informatique",
    ]
    assert set(expected) <= set(taxonomy.themes)
    for theme in taxonomy.themes.values():
        assert theme.label and theme.group in taxonomy.groups
    assert taxonomy.label("epicerie") == "Épicerie"


def test_taxonomy_rejects_ambiguous_synonyms() -> None:
    with pytest.raises(ValueError, match="maps to both"):
        Taxonomy.from_dict(
            {
                "themes": {
                    "a": {"label": "A", "synonyms": ["pain"]},
                    "b": {"label": "B", "synonyms": ["Pains"]},
                }
            }
        )
    with pytest.raises(ValueError, match="needs a 'label'"):
        Taxonomy.from_dict({"themes": {"a": {}}})


# --- one-field addresses, casing, NAF codes, platform labels, fast paths -----------------


@pytest.mark.parametrize(
    ("raw", "number", "street", "postcode", "city"),
    [
        (
            "3 r. des Filatiers 31000 Toulouse CEDEX 6",
            "3",
            "rue filatiers",
            "31000",
            "toulouse",
        ),
        # As the Niort aggregator writes it: no number, the town after the postcode.
        ("Place de la mairie 17290 LANDRAIS", None, "place mairie", "17290", "landrais"),
        (
            "24, avenue de Verdun 37010 Saint-Carlier",
            "24",
            "avenue verdun",
            "37010",
            "saint carlier",
        ),
        ("2 rue du 8 mai 1945 31000 Toulouse", "2", "rue 8 mai 1945", "31000", "toulouse"),
        ("12 a 14 rue de Metz", "12", "rue metz", None, None),
        ("12 bis-14 rue de Metz", "12 bis", "rue metz", None, None),
        ("31 Bis Avenue des Pyrénées", "31 bis", "avenue pyrenees", None, None),
        ("5 quater imp. des Lilas", "5 quater", "impasse lilas", None, None),
    ],
)
def test_addresses_written_in_one_field_split(
    raw: str, number: str | None, street: str, postcode: str | None, city: str | None
) -> None:
    parsed = parse_address(raw)
    assert parsed is not None
    assert (parsed.number, parsed.street, parsed.postcode, parsed.city) == (
        number,
        street,
        postcode,
        city,
    )


def test_address_display_drops_the_postcode_and_town_written_after_it() -> None:
    assert street_display("12 rue X 31000 Toulouse") == "12 rue X"
    assert street_display("Bd de Strasbourg, 31000 Toulouse CEDEX 6") == "Bd de Strasbourg"
    assert street_display("2 rue du 8 mai 1945 31000 Toulouse") == "2 rue du 8 mai 1945"
    assert street_display("12 bis av. Jean Jaurès") == "12 bis av. Jean Jaurès"
    assert street_display("  ") is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("PHARMACIE DE LA BOUQUERIE", "Pharmacie de la Bouquerie"),  # the Ténarèze directory
        ("LES GOURMANDISES DE LA GATISE", "Les Gourmandises de la Gatise"),
        ("AU P'TIT GAMBETTA", "Au P'tit Gambetta"),
        ("L'UNION", "L'Union"),
        ("BNP PARIBAS", "BNP Paribas"),
        ("boulangerie du centre", "Boulangerie du Centre"),
        ("Boulangerie Ange", "Boulangerie Ange"),
    ],
)
def test_shouted_and_flat_text_is_recased(raw: str, shown: str) -> None:
    assert tidy(raw) == shown


def test_towns_are_shown_without_cedex_and_properly_cased() -> None:
    assert display_city("MONTREAL-DU-GERS") == "Montreal-du-Gers"
    assert display_city("TOULOUSE CEDEX 9") == "Toulouse"
    assert display_city("Toulouse Cedex") == "Toulouse"
    assert display_city("31000 TOULOUSE") == "Toulouse"
    assert display_city("Saint-Puy") == "Saint-Puy"
    assert display_city(None) is None
    assert casing_rank("CONDOM") == 2 and casing_rank("condom") == 1 and casing_rank("Condom") == 0


def test_names_fold_legal_forms_articles_chez_and_ampersands() -> None:
    assert normalise_name("SASU BRUNO CHANINET - L'AILE OU LA CUISSE") == (
        "bruno chaninet l aile ou la cuisse"
    )
    assert normalise_name("Chez Paul & Fils") == "paul et fils"
    assert normalise_name("EARL EPIDOR") == "epidor"
    assert name_and_words("L'Épicerie de Léa & Cie") == (
        "epicerie de lea et cie",
        ["epicerie", "lea", "cie", "~epic"],  # and the prefix of the words written together
    )


@pytest.mark.parametrize(
    ("label", "theme"),
    [
        ("naf:10.71C", "boulangerie"),
        ("10.71C", "boulangerie"),
        ("1071C", "boulangerie"),
        ("APE 47.73Z", "pharmacie"),
        ("NAF 10.71", "boulangerie"),  # a class: its first subclass's theme
        ("47.11B", "epicerie"),
        ("56.10A", "restaurant"),
        ("shop=bakery", "boulangerie"),
        ("shop=bakery;organic=only", "boulangerie"),
        ("Boulangerie Patisserie Bio", "boulangerie"),  # as the Ténarèze layers write it
        ("99.99Z", None),
    ],
)
def test_categories_from_naf_codes_osm_tags_and_labels(label: str, theme: str | None) -> None:
    assert normalise_category(label) == theme


def test_a_platforms_own_labels_can_be_pinned() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.normalise("Métiers de bouche") is None
    assert taxonomy.normalise("Métiers de bouche", platform="clickn_co") == "boucherie"
    with pytest.raises(ValueError, match="unknown theme"):
        Taxonomy.from_dict({"themes": {"a": {"label": "A"}}, "platforms": {"p": {"x": "b"}}})
    with pytest.raises(ValueError, match="not a NAF code"):
        Taxonomy.from_dict({"themes": {"a": {"label": "A", "naf": ["bakery"]}}})


def test_the_french_phone_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        digits = f"0{rng.randint(1, 9)}{rng.randrange(10**8):08d}"
        pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
        written = rng.choice(
            [digits, " ".join(pairs), ".".join(pairs), "+33" + digits[1:], "0033 " + digits[1:]]
        )
        assert normalise_phone(written) == _parse_text(digits, "FR"), written
        first = phone_digits(written)[0]
        assert (f"+{first}" if first else None) == normalise_phone(written)


def test_phones_several_and_separated() -> None:
    assert phone_digits("05 61 22 33 44 / 06.12.34.56.78") == (33561223344, 33612345678)
    assert phone_digits("+33 (0)5 61 22 33 44") == (33561223344, 0)
    assert phone_digits("n.c.") == (0, 0)


def test_platform_and_social_domains_are_not_a_shops_identity() -> None:
    ignored = ["presdecheznous.fr", "toutoulouse.fr"]
    assert website_domain("https://presdecheznous.fr/annuaire#/fiche/id/CqS", ignored) is None
    assert website_domain("http://facebook.com/mademoisellevracniort/") is None
    assert website_domain("https://www.linkedin.com/company/x") is None
    assert (
        website_domain("https://amapdesdeuxmains.wordpress.com/")
        == "amapdesdeuxmains.wordpress.com"
    )
    assert website_domain("http://amap-fontenay-presdici.e-monsite.com/pages/p.html") == (
        "amap-fontenay-presdici.e-monsite.com"
    )
    assert website_domain("HTTP://WWW.Epicerie-Lea.FR:8080/x") == "epicerie-lea.fr"
    assert website_domain("http://user@shop.fr/") == "shop.fr"  # user info is not the host


def test_sirens_and_sirets() -> None:
    assert luhn_ok("443061841") and not luhn_ok("443061842")
    assert normalise_siret("851 237 735 00010") == "85123773500010"
    assert normalise_siret("8512377350001O") is None  # a letter O for a zero
    assert siret_is_valid("35600000049837")  # La Poste: sum of digits 55, a multiple of 5


SIRENE = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "sirene_like"


@pytest.mark.real_data
@pytest.mark.skipif(not SIRENE.is_dir(), reason=f"real data folder absent: {SIRENE}")
def test_real_sirets_pass_and_real_addresses_parse() -> None:
    with (SIRENE / "maestro_egg_producers_siret.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 1000
    # One SIRET lost its leading zero in a spreadsheet: it is read back.
    assert all(normalise_siret(row["siret"]) == row["siret"].zfill(14) for row in rows)
    parsed = [parse_address(row["address"]) for row in rows if row["address"]]
    assert sum(p is not None and p.street != "" for p in parsed) / len(parsed) > 0.98
    names = [normalise_name(row["name"]) for row in rows]
    assert not any(
        name.split()[0] in ("sarl", "sas", "sasu", "earl", "gaec") for name in names if name
    )

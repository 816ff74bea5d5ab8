"""Normalisation of names, addresses, identifiers and categories, on French samples."""

from __future__ import annotations

import pytest

from dedupe import load_taxonomy, normalise_category
from dedupe.identifiers import (
    normalise_email,
    normalise_phone,
    normalise_phones,
    normalise_siret,
    siret_is_valid,
    website_domain,
)
from dedupe.normalise import (
    display_name,
    normalise_city,
    normalise_name,
    normalise_postcode,
    parse_address,
)
from dedupe.taxonomy import Taxonomy
from dedupe.text import fold


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
        ("Bd de Strasbourg", None, "boulevard de strasbourg"),
        ("45, bd de Strasbourg", "45", "boulevard de strasbourg"),
        ("3 r. des Filatiers", "3", "rue des filatiers"),
        ("8 pl. St-Cyprien", "8", "place saint cyprien"),
        ("2 chem. de la Ramée", "2", "chemin de la ramee"),
        ("7 rte de Narbonne", "7", "route de narbonne"),
        ("1 imp. des Lilas", "1", "impasse des lilas"),
        ("14 all. Jean Jaurès", "14", "allee jean jaures"),
        ("14 Allées Jean Jaurès", "14", "allee jean jaures"),
        ("33 fg Bonnefoy", "33", "faubourg bonnefoy"),
        ("5 rue Ste-Ursule", "5", "rue sainte ursule"),
        ("10 ter rue Gambetta", "10 ter", "rue gambetta"),
        ("12-14 rue de Metz", "12", "rue de metz"),
        ("12 et 14 rue de Metz", "12", "rue de metz"),
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
    assert parsed.full == "12 boulevard de strasbourg"
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

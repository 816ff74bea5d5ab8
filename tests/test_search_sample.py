"""A dozen hand-made Toulouse-area shops with offers, shared by the search tests; and the
documents the search builds from them."""

from __future__ import annotations

from typing import Any

from aggregator.models import Entity, GoldenRecord, Listing, OfferRecord, Provenanced, RecordKey
from search import entity_documents, shop_document

# Place du Capitole, Toulouse.
CAPITOLE = (43.6045, 1.4440)


def make_entity(
    entity_id: str,
    name: str,
    category: str,
    city: str,
    postcode: str,
    lat: float | None,
    lon: float | None,
    *,
    platforms: tuple[str, ...] = ("toutoulouse",),
    description: str | None = None,
    services: list[str] | None = None,
    names: list[str] | None = None,
    offers: list[tuple[str, float]] | None = None,
    address: str | None = None,
) -> Entity:
    platform = platforms[0]
    values: dict[str, Any] = {
        "name": name,
        "category": category,
        "city": city,
        "postcode": postcode,
        "lat": lat,
        "lon": lon,
        "description": description,
        "services": services or [],
        "address": address,
        "phone": "05 61 00 00 00",
        "website": f"https://{entity_id}.example.fr",
        "opening_hours": "Mo-Sa 07:00-19:30",
    }
    golden = GoldenRecord(
        fields={
            k: Provenanced(value=v, platform=platform, source_id=f"{entity_id}-src")
            for k, v in values.items()
            if v is not None
        }
    )
    listings = [
        Listing(
            platform=p,
            source_id=f"{entity_id}-{p}",
            url=f"https://{p}.example/{entity_id}",
            name=name,
        )
        for p in platforms
    ]
    return Entity(
        entity_id=entity_id,
        members=[RecordKey(platform=p, source_id=f"{entity_id}-{p}") for p in platforms],
        golden=golden,
        listings=listings,
        names=[name, *(names or [])],
        offers=[
            OfferRecord(
                platform=platform,
                source_id=f"{entity_id}-o{i}",
                shop_source_id=f"{entity_id}-{platform}",
                title=title,
                price=price,
                currency="EUR",
                availability="in_stock",
                url=f"https://{platform}.example/{entity_id}/o{i}",
            )
            for i, (title, price) in enumerate(offers or [])
        ],
    )


def sample_entities() -> list[Entity]:
    e = make_entity
    return [
        e(
            "ent-boul-capitole",
            "Boulangerie du Capitole",
            "boulangerie",
            "Toulouse",
            "31000",
            43.6047,
            1.4445,
            platforms=("toutoulouse", "geolocal31"),
            description="Pain au levain, baguettes et viennoiseries cuites au feu de bois.",
            services=["click_and_collect"],
            names=["Boulangerie Capitole"],
            offers=[("Croissant pur beurre", 1.2), ("Baguette tradition", 1.1)],
            address="2 rue du Taur",
        ),
        e(
            "ent-boul-carmes",
            "Au Fournil des Carmes",
            "boulangerie",
            "Toulouse",
            "31000",
            43.5975,
            1.4455,
            description="Pain bio et gâteaux.",
            services=["livraison"],
            offers=[("Pain de campagne bio", 3.5)],
        ),
        e(
            "ent-boul-blagnac",
            "Boulangerie Martin",
            "boulangerie",
            "Blagnac",
            "31700",
            43.6370,
            1.3900,
            platforms=("geolocal31",),
            services=["click_and_collect"],
            offers=[("Croissant aux amandes", 1.6)],
        ),
        e(
            "ent-patiss-colomiers",
            "Pâtisserie Lenôtre Occitane",
            "patisserie",
            "Colomiers",
            "31770",
            43.6110,
            1.3350,
            platforms=("dans-ma-zone",),
            description="Gâteaux, entremets et macarons.",
        ),
        e(
            "ent-fromage",
            "Fromagerie Xavier",
            "fromagerie",
            "Toulouse",
            "31000",
            43.6005,
            1.4460,
            platforms=("toutoulouse", "tous-occitariens"),
            description="Fromages affinés des Pyrénées.",
            offers=[("Tomme des Pyrénées", 24.0)],
        ),
        e(
            "ent-boucherie",
            "Boucherie Saint-Cyprien",
            "boucherie",
            "Toulouse",
            "31300",
            43.5990,
            1.4320,
            description="Viande d'Occitanie, saucisse de Toulouse.",
            services=["click_and_collect"],
        ),
        e(
            "ent-pizza",
            "Pizzeria Da Marco",
            "restaurant",
            "Toulouse",
            "31400",
            43.5800,
            1.4600,
            description="Cuisine italienne au feu de bois.",
            services=["livraison"],
        ),
        e(
            "ent-coiffeur",
            "Salon de coiffure Élégance",
            "coiffure",
            "Blagnac",
            "31700",
            43.6400,
            1.3950,
            platforms=("geolocal31",),
        ),
        e(
            "ent-caviste",
            "La Cave à Vins de Ramonville",
            "caviste",
            "Ramonville-Saint-Agne",
            "31520",
            43.5450,
            1.4760,
            platforms=("click-n-co",),
            description="Vins du Sud-Ouest et spiritueux.",
            services=["click_and_collect"],
            offers=[("Fronton rouge AOP", 9.9)],
        ),
        e(
            "ent-boul-ramonville",
            "Boulangerie de la Poste",
            "boulangerie",
            "Ramonville-Saint-Agne",
            "31520",
            43.5460,
            1.4740,
            platforms=("click-n-co",),
        ),
        e(
            "ent-epicerie",
            "Épicerie fine du Marché",
            "epicerie",
            "Colomiers",
            "31770",
            43.6120,
            1.3370,
            platforms=("dans-ma-zone",),
            description="Produits régionaux et vrac.",
        ),
        e(
            "ent-fleuriste",
            "Les Fleurs de Lola",
            "fleuriste",
            "Toulouse",
            "31500",
            None,
            None,
            description="Bouquets de saison.",
        ),
    ]


def test_shop_document_carries_golden_values_spellings_and_listings() -> None:
    entity = sample_entities()[0]
    doc = shop_document(entity)
    assert doc["id"] == doc["entity_id"] == "ent-boul-capitole"
    assert doc["names"] == ["Boulangerie du Capitole", "Boulangerie Capitole"]
    assert doc["platforms"] == ["toutoulouse", "geolocal31"]
    assert doc["services"] == ["click_and_collect"]
    assert (doc["lat"], doc["lon"], doc["postcode"]) == (43.6047, 1.4445, "31000")
    assert [listing["platform"] for listing in doc["listings"]] == ["toutoulouse", "geolocal31"]
    # Each listing as its JSON form, with or without a link.
    entity.listings[1].url = None
    doc = shop_document(entity)
    assert doc["listings"] == [listing.model_dump(mode="json") for listing in entity.listings]
    assert doc["listings"][1]["url"] is None


def test_offer_documents_carry_their_shop() -> None:
    shop, *offers = entity_documents(sample_entities()[0])
    assert [o["title"] for o in offers] == ["Croissant pur beurre", "Baguette tradition"]
    for offer in offers:
        assert offer["doc_type"] == "offer"
        assert offer["entity_id"] == shop["entity_id"]
        assert (offer["shop_name"], offer["city"], offer["lat"]) == (
            shop["name"],
            shop["city"],
            shop["lat"],
        )
    assert len({o["id"] for o in offers}) == 2

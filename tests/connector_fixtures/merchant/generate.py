"""Writes the merchant-feed fixtures: one fictional wine shop's catalogue as RSS 2.0, Atom and TSV,
and an RSS feed of items that must be refused. Run from the repository root::

    .venv/bin/python tests/connector_fixtures/merchant/generate.py

Every shop, product and link here is invented (no real merchant data is committed).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
G = "http://base.google.com/ns/1.0"
SHOP = {"title": "Cave des Chartreux", "link": "https://www.cave-chartreux.example"}
#: Google attribute names -> values; the same products in every format.
PRODUCTS: list[dict[str, str]] = [
    {
        "id": "vin-001",
        "title": "Fronton rouge AOP 2022",
        "description": "Négrette du Frontonnais, fruits noirs & violette.",
        "link": "https://www.cave-chartreux.example/vins/fronton-rouge-2022",
        "image_link": "https://www.cave-chartreux.example/img/fronton.jpg",
        "price": "12.50 EUR",
        "availability": "in stock",
        "google_product_category": "Food, Beverages & Tobacco > Beverages > Alcoholic Beverages"
        " > Wine",
        "product_type": "Vins > Rouges",
        "store_code": "CAVE-TLS-01",
        "pickup_method": "buy",
        "pickup_SLA": "same day",
    },
    {
        "id": "vin-002",
        "title": "Gaillac blanc doux",
        "description": "Mauzac et loin de l'oeil, vendanges tardives.",
        "link": "https://www.cave-chartreux.example/vins/gaillac-doux",
        "price": "9,90 EUR",
        "sale_price": "7,90 EUR",
        "availability": "en stock",
        "google_product_category": "421",
        "product_type": "Vins > Blancs",
        "store_code": "CAVE-TLS-01",
        "pickup_method": "reserve",
        "pickup_SLA": "next day",
    },
    {
        "id": "biere-003",
        "title": "Bière blonde artisanale",
        "description": "<p>Brassée à <b>Toulouse</b>,<br/>houblons d'Occitanie.</p>"
        "<script>x()</script>",
        "link": "https://www.cave-chartreux.example/bieres/blonde",
        "price": "EUR 3.20",
        "availability": "out_of_stock",
        "google_product_category": "421",
        "store_code": "CAVE-TLS-01",
        "pickup_method": "not supported",
    },
    {
        "id": "armagnac-004",
        "title": "Bas-Armagnac 20 ans",
        "link": "https://www.cave-chartreux.example/spiritueux/armagnac-20",
        "price": "89.00 EUR",
        "availability": "preorder",
        "product_type": "Spiritueux",
    },
    {
        "id": "coffret-005",
        "title": "Coffret découverte Occitanie",
        "link": "https://www.cave-chartreux.example/coffrets/occitanie",
        "image_link": "https://www.cave-chartreux.example/img/coffret.jpg",
        "price": "45 EUR",
        "sale_price": "39.00 EUR",
        "sale_price_effective_date": "2020-11-27T00:00+0100/2020-12-01T00:00+0100",
        "availability": "backorder",
    },
    {
        "id": "jus-006",
        "title": "Jus de raisin bio",
        "link": "https://www.cave-chartreux.example/sans-alcool/jus-raisin",
        "price": "4.50 EUR",
        "availability": "limited availability",
    },
]
#: Items the connector must refuse (or keep with what it can read), one problem each.
REFUSALS: list[dict[str, str]] = [
    {"id": "ok-1", "title": "Baguette tradition", "price": "1.30 EUR", "availability": "in_stock"},
    {"title": "Sans identifiant", "price": "2.00 EUR", "availability": "in_stock"},
    {"id": "no-title", "price": "2.00 EUR", "availability": "in_stock"},
    {"id": "bad-price", "title": "Prix illisible", "price": "gratuit", "availability": "in_stock"},
    {"id": "ok-1", "title": "Baguette en double", "price": "1.30 EUR", "availability": "in_stock"},
    {"id": "odd-stock", "title": "Stock inconnu", "price": "3 EUR", "availability": "bientôt"},
]


def rss(products: list[dict[str, str]], title: str, link: str) -> str:
    items = "".join(
        "    <item>\n"
        + "".join(f"      <g:{k}>{escape(v)}</g:{k}>\n" for k, v in product.items())
        + "    </item>\n"
        for product in products
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{G}">\n  <channel>\n'
        f"    <title>{escape(title)}</title>\n    <link>{escape(link)}</link>\n"
        "    <description>Catalogue (données fictives)</description>\n"
        f"{items}  </channel>\n</rss>\n"
    )


def atom(products: list[dict[str, str]]) -> str:
    """Atom entries use Atom's own ``title`` and ``link``, as Google's Atom example does."""
    entries = []
    for product in products:
        rest = {k: v for k, v in product.items() if k not in ("title", "link")}
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(product['title'])}</title>\n"
            f'    <link rel="alternate" type="text/html" href="{escape(product["link"])}"/>\n'
            + "".join(f"    <g:{k}>{escape(v)}</g:{k}>\n" for k, v in rest.items())
            + "  </entry>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="{G}">\n'
        f"  <title>{escape(SHOP['title'])}</title>\n"
        f'  <link rel="self" href="{SHOP["link"]}/feed.atom"/>\n'
        f'  <link href="{SHOP["link"]}"/>\n'
        "  <updated>2024-05-02T08:00:00Z</updated>\n" + "".join(entries) + "</feed>\n"
    )


def tsv(products: list[dict[str, str]]) -> str:
    columns = list(dict.fromkeys(k for product in products for k in product))
    lines = ["\t".join(columns)]
    lines += ["\t".join(product.get(c, "") for c in columns) for product in products]
    return "\n".join(lines) + "\n"


def main() -> None:
    (HERE / "cave_rss.xml").write_text(rss(PRODUCTS, **SHOP), encoding="utf-8")
    (HERE / "cave_atom.xml").write_text(atom(PRODUCTS), encoding="utf-8")
    (HERE / "cave.tsv").write_text(tsv(PRODUCTS), encoding="utf-8")
    refusals = rss(REFUSALS, "Fournil des Minimes", "https://fournil-minimes.example")
    (HERE / "refusals_rss.xml").write_text(refusals, encoding="utf-8")


if __name__ == "__main__":
    main()

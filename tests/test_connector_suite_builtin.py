"""The standard connector suite over the built-in kinds."""

from __future__ import annotations

import json
from typing import Any

from connector_suite import ConnectorSuite

SHOPS_CSV = (
    "id;nom;ville;tel\n"
    "1;Boulangerie Saint-Cyprien;Toulouse;05 61 42 10 11\n"
    "2;Fromagerie des Carmes;Toulouse;0561223344\n"
    "3;Boucherie Durand;Blagnac;+33 5 61 21 00 00\n"
    "4;Cave des Chartreux;Toulouse;05 61 00 00 04\n"
)


class TestCsvKind(ConnectorSuite):
    kind = "csv"

    def feed(self) -> dict[str, Any]:
        return {"/shops.csv": (200, {"Content-Type": "text/csv"}, SHOPS_CSV)}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "suite",
            "kind": "csv",
            "url": f"{base_url}/shops.csv",
            "mapping": {"source_id": "id", "name": "nom", "city": "ville", "phone": "tel"},
        }

    def broken_feed(self) -> dict[str, Any]:
        return {"/shops.csv": (503, {"Retry-After": "0"}, "maintenance")}


PAGES = [
    [{"id": 1, "name": "Boulangerie Ange", "products": [{"id": "p1", "name": "Baguette"}]}],
    [{"id": 2, "name": "Primeur des Carmes", "products": []}],
    [{"id": 3, "name": "Librairie du Taur", "products": [{"id": "p3", "name": "Roman"}]}],
]


def page(target: Any) -> tuple[int, dict[str, str], str]:
    number = int(target.query.get("page", "1"))
    records = PAGES[number - 1] if number <= len(PAGES) else []
    return 200, {"Content-Type": "application/json"}, json.dumps({"data": records})


def page_failing_after_first(target: Any) -> tuple[int, dict[str, str], str]:
    if int(target.query.get("page", "1")) > 1:
        return 500, {"Retry-After": "0"}, "boom"
    return page(target)


class TestJsonApiKind(ConnectorSuite):
    kind = "json_api"

    def feed(self) -> dict[str, Any]:
        return {"/api/shops": page}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "suite",
            "kind": "json_api",
            "url": f"{base_url}/api/shops",
            "options": {
                "records_path": "data",
                "pagination": {"style": "page", "param": "page", "start": 1},
                "offers_path": "products",
            },
            "mapping": {
                "source_id": "id",
                "name": "name",
                "offer.source_id": "id",
                "offer.title": "name",
            },
        }

    def broken_feed(self) -> dict[str, Any]:
        return {"/api/shops": page_failing_after_first}

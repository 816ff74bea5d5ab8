"""What a read emits for a row of a mapped feed (csv, json_api): the item, with its record's
JSON form when the code written for the mapping built it, or the rejection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aggregator.models import ConnectorRegistration, PlainJSON, Rejection
from connectors.base import Item
from connectors.mapping import DuplicateGuard, _compiled, row_reader
from connectors.row_builder import usable


def item_reader(
    registration: ConnectorRegistration, guard: DuplicateGuard
) -> Callable[[Any, str, bool], Item | Rejection]:
    """What a read emits for a row: ``guard.admit(row_reader(registration)(row, locator), row,
    locator)``, with the record's JSON form on the item when the code written for the mapping
    built it. ``plain`` says the row's values are ones orjson writes as ``json.dumps`` does (a
    CSV row's texts; a page orjson read, without tiny floats): its payload is then marked so
    (a ``PlainJSON`` copy) and the store does not look at its types again."""
    compiled = _compiled(registration.mapping)
    full = row_reader(registration)
    fast = compiled.offer_fast if compiled.rows_are_offers else compiled.shop_fast
    platform, country, admit = registration.platform, registration.country, guard.admit
    if fast is None or not usable(platform, country):

        def read_all(row: Any, locator: str, plain: bool = False) -> Item | Rejection:
            return admit(full(row, locator), row, locator)

        return read_all

    def read(row: Any, locator: str, plain: bool = False) -> Item | Rejection:
        if type(row) is dict:
            built = fast(row, platform, country)
            if built is not None:
                return admit(built[0], PlainJSON(row) if plain else row, locator, built[1])
        return admit(full(row, locator), row, locator)

    return read

"""Shop records turned into columns of normalised values, the form blocking and scoring read.

Columns (one list per field, one row per record) rather than one object per record: the hot
loops then index plain lists, and a vectorised scorer can take a whole column at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aggregator.models import ShopRecord
from dedupe.identifiers import normalise_email, normalise_phones, normalise_siret, website_domain
from dedupe.normalise import normalise_city, normalise_name, normalise_postcode, parse_address
from dedupe.taxonomy import Taxonomy, load_taxonomy
from dedupe.text import key_tokens

#: An identifier (phone, e-mail, website, SIRET) carried by more records than this, or by
#: records with more distinct names than ``MAX_SHARED_NAMES``, is a platform's or a franchise's,
#: not one shop's: it is treated as missing.
MAX_SHARED_RECORDS = 20
MAX_SHARED_NAMES = 8


@dataclass
class Prepared:
    """Normalised columns for ``n`` records; row ``i`` is ``records[i]``."""

    keys: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    name_tokens: list[tuple[str, ...]] = field(default_factory=list)
    numbers: list[str | None] = field(default_factory=list)
    streets: list[str | None] = field(default_factory=list)
    addresses: list[str | None] = field(default_factory=list)
    postcodes: list[str | None] = field(default_factory=list)
    cities: list[str | None] = field(default_factory=list)
    phones: list[tuple[str, ...]] = field(default_factory=list)
    emails: list[str | None] = field(default_factory=list)
    domains: list[str | None] = field(default_factory=list)
    sirets: list[str | None] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    groups: list[str | None] = field(default_factory=list)
    lats: list[float | None] = field(default_factory=list)
    lons: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def column(self, name: str) -> list:
        return getattr(self, name)


def prepare(
    records: Sequence[ShopRecord],
    taxonomy: Taxonomy | None = None,
    platform_domains: Iterable[str] = (),
    drop_shared: bool = True,
) -> Prepared:
    """Normalise every record once. ``platform_domains`` are never read as a shop's website."""
    taxonomy = taxonomy or load_taxonomy()
    ignored = tuple(platform_domains)
    out = Prepared()
    for record in records:
        name = normalise_name(record.name)
        address = parse_address(record.address)
        category = taxonomy.normalise(record.category)
        postcode = normalise_postcode(record.postcode) or (address.postcode if address else None)
        out.keys.append(f"{record.platform}:{record.source_id}")
        out.platforms.append(record.platform)
        out.names.append(name)
        out.name_tokens.append(tuple(key_tokens(name)))
        out.numbers.append(address.number if address else None)
        out.streets.append(address.street or None if address else None)
        out.addresses.append(address.full if address else None)
        out.postcodes.append(postcode)
        out.cities.append(normalise_city(record.city) or None)
        out.phones.append(normalise_phones(record.phone, record.country))
        out.emails.append(normalise_email(record.email))
        out.domains.append(website_domain(record.website, ignored))
        out.sirets.append(normalise_siret(record.siret))
        out.categories.append(category)
        out.groups.append(taxonomy.group(category))
        has_geo = record.lat is not None and record.lon is not None
        out.lats.append(record.lat if has_geo else None)
        out.lons.append(record.lon if has_geo else None)
    if drop_shared:
        drop_shared_identifiers(out)
    return out


def drop_shared_identifiers(
    prepared: Prepared,
    max_records: int = MAX_SHARED_RECORDS,
    max_names: int = MAX_SHARED_NAMES,
) -> dict[str, int]:
    """Blank identifiers shared too widely to identify one shop; returns counts per column."""
    dropped: dict[str, int] = {}
    for column in ("emails", "domains", "sirets"):
        values = prepared.column(column)
        shared = _shared_values(
            ((v,) if v else () for v in values), prepared.names, max_records, max_names
        )
        dropped[column] = 0
        for i, value in enumerate(values):
            if value in shared:
                values[i] = None
                dropped[column] += 1
    shared_phones = _shared_values(prepared.phones, prepared.names, max_records, max_names)
    dropped["phones"] = 0
    if shared_phones:
        for i, phones in enumerate(prepared.phones):
            kept = tuple(p for p in phones if p not in shared_phones)
            if kept != phones:
                prepared.phones[i] = kept
                dropped["phones"] += 1
    return dropped


def _shared_values(
    values: Iterable[tuple[str, ...]], names: list[str], max_records: int, max_names: int
) -> set[str]:
    holders: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(values):
        for value in row:
            holders[value].append(i)
    shared: set[str] = set()
    for value, rows in holders.items():
        if len(rows) > max_records or (
            len(rows) > max_names and len({names[i] for i in rows}) > max_names
        ):
            shared.add(value)
    return shared

"""Kind ``sirene``: an establishment extract of the SIRENE register, used as reference data: the
INSEE ``StockEtablissement`` CSV, or any extract with a SIRET column (a mapping names its columns).

Columns are read by their SIRENE names (``DEFAULT_MAPPING``); a registration's mapping overrides
them field by field (``|`` between alternatives). The SIRET is checked (14 digits, Luhn); the
address is built from the ``*VoieEtablissement`` columns; a NAF code becomes the category
``naf:10.71C``. Closed establishments (``etatAdministratifEtablissement`` F) are read like the
others and keep their state in the raw payload (``is_closed``); establishments whose data is not
public (``statutDiffusionEtablissement`` P) are refused. Decoding and delimiter sniffing are the
``csv`` kind's; locators are lines (``line 12``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, ReadContext
from connectors.csv import Config as CsvConfig
from connectors.csv import decode, numbered_rows, sniff_delimiter
from connectors.geo_common import (
    ALTERNATIVES,
    blank,
    build_shop,
    columns_of,
    first_value,
)
from connectors.http import fetch_if_changed, validators
from connectors.mapping import OFFER_PREFIX, DuplicateGuard, excerpt, validate_mapping_columns
from connectors.registry import check_by_reading, parse_options, register

#: The street address the kind builds from the voie columns, as rejection reasons show it.
ADDRESS = "(numeroVoie indiceRepetition typeVoie libelleVoie)"
VOIE_COLUMNS = (
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
)
COMPLEMENT = "complementAdresseEtablissement"
DEFAULT_MAPPING: dict[str, str] = {
    "source_id": "siret",
    "siret": "siret",
    "name": "enseigne1Etablissement|denominationUsuelleEtablissement|denominationUniteLegale",
    "address": ADDRESS,
    "postcode": "codePostalEtablissement",
    "city": "libelleCommuneEtablissement",
    "category": "activitePrincipaleEtablissement",
}
#: INSEE's street-type codes (``typeVoieEtablissement``).
STREET_TYPES: dict[str, str] = {
    "ALL": "allée", "AV": "avenue", "BD": "boulevard", "CAR": "carrefour", "CHE": "chemin",
    "CHS": "chaussée", "CITE": "cité", "COR": "corniche", "CRS": "cours", "DOM": "domaine",
    "DSC": "descente", "ECA": "écart", "ESP": "esplanade", "FG": "faubourg", "GR": "grande rue",
    "HAM": "hameau", "HLE": "halle", "IMP": "impasse", "LD": "lieu-dit", "LOT": "lotissement",
    "MAR": "marché", "MTE": "montée", "PARC": "parc", "PAS": "passage", "PL": "place",
    "PLN": "plaine", "PLT": "plateau", "PRO": "promenade", "PRV": "parvis", "QUA": "quartier",
    "QUAI": "quai", "RES": "résidence", "RLE": "ruelle", "ROC": "rocade", "RPT": "rond-point",
    "RTE": "route", "RUE": "rue", "SEN": "sente", "SQ": "square", "TPL": "terre-plein",
    "TRA": "traverse", "VLA": "villa", "VLGE": "village",
}  # fmt: skip
REPETITION: dict[str, str] = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}
#: What SIRENE writes in the fields of an establishment whose data is not public.
NOT_DIFFUSED = "[ND]"
UNCLASSIFIED_NAF = "00.00Z"
LA_POSTE_SIREN, LA_POSTE_HEAD_OFFICE = "356000000", "35600000000048"
_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])$")


class Config(CsvConfig):
    """Options of the ``sirene`` kind: the ``csv`` kind's (the extract is a CSV file)."""


class SireneKind:
    """Reads the whole extract, then emits one item or rejection per establishment."""

    name: ClassVar[str] = "sirene"
    Config: ClassVar[type[BaseModel]] = Config
    #: No mapping needed for SIRENE's own columns.
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        url = registration.url
        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged since the last run: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        text = decode(response.content, config.encoding, url)
        delimiter = config.delimiter or sniff_delimiter(text, config.quotechar)
        rows = numbered_rows(text, delimiter, config.quotechar, url)
        header = next((fields for _, fields in rows if any(f.strip() for f in fields)), None)
        if header is None:
            raise ConnectorError(f"{url} has no header line: the file is empty")
        header = [name.strip() for name in header]
        mapping = effective_mapping(registration.mapping, header)
        guard = DuplicateGuard()
        for line, fields in rows:
            if not any(field.strip() for field in fields):
                continue
            locator = f"line {line}"
            if len(fields) > len(header):
                reason = f"{len(fields)} fields where the header has {len(header)}"
                yield Rejection(locator=locator, reason=reason, excerpt=excerpt(fields))
                continue
            padded = fields + [""] * (len(header) - len(fields))  # trailing empties left out
            row: dict[str, str] = {}
            for name, value in zip(header, padded, strict=True):
                row.setdefault(name, value)  # a repeated column name: the first one counts
            yield guard.admit(_shop(registration, mapping, row, locator), row, locator)
        yield Checkpoint(state=validators(response), complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def is_closed(raw: Mapping[str, Any]) -> bool:
    """Whether an establishment read by this kind is closed (its raw payload says F)."""
    return str(raw.get("etatAdministratifEtablissement") or "").strip().upper() == "F"


def effective_mapping(mapping: Mapping[str, str], header: list[str]) -> dict[str, str]:
    """SIRENE's columns present in the header, overridden by the registration's mapping; the
    mapping's columns must all be in the header, and the id and the name must be found."""
    offers = sorted(field for field in mapping if field.startswith(OFFER_PREFIX))
    if offers:
        raise ConnectorError(
            f"the sirene kind reads establishments only: remove {', '.join(offers)}"
        )
    present = set(header)
    shown = {f: next((c for c in columns_of(s) if c in present), s) for f, s in mapping.items()}
    validate_mapping_columns(shown, header, "the CSV header")
    effective: dict[str, str] = {}
    for field, spec in DEFAULT_MAPPING.items():
        if spec == ADDRESS:
            if present & {VOIE_COLUMNS[3], COMPLEMENT}:
                effective[field] = ADDRESS
        elif found := [column for column in columns_of(spec) if column in present]:
            effective[field] = ALTERNATIVES.join(found)
    effective.update(mapping)
    if "siret" in mapping and "source_id" not in mapping:
        effective["source_id"] = mapping["siret"]
    for field in ("source_id", "name"):
        if field not in effective:
            raise ConnectorError(
                f"the CSV header has no {DEFAULT_MAPPING[field].replace('|', ' or ')} column "
                f"and the mapping names none: map {field} to the column holding each "
                f"establishment's {field.replace('_', ' ')}"
            )
    return effective


def street_address(row: Mapping[str, Any]) -> str | None:
    """``12 bis avenue Jean Jaurès`` from SIRENE's voie columns (``12 BIS AVENUE JEAN JAURES``
    when the street is in capitals, as SIRENE writes it), else the address complement (a
    lieu-dit, a building)."""
    number, repetition, kind, street = (_text(row.get(column)) for column in VOIE_COLUMNS)
    if not street:
        return _text(row.get(COMPLEMENT))
    if number and repetition:
        number = f"{number} {REPETITION.get(repetition.upper(), repetition)}"
    kind = STREET_TYPES.get(kind.upper(), kind) if kind else None
    text = " ".join(part for part in (number, kind, street) if part)
    return text.upper() if street.isupper() else text


def naf_category(code: str, nomenclature: str | None = None) -> str | None:
    """``naf:10.71C`` for a NAF rev. 2 code (dotted or not); codes of older nomenclatures are
    prefixed with theirs (``nafrev1:52.4C``); other text is kept as it is."""
    code = code.strip()
    if nomenclature and nomenclature.strip().upper() not in ("", "NAFREV2"):
        return f"{nomenclature.strip().lower()}:{code}"
    match = _NAF.match(code.upper())
    if not match:
        return code
    normalised = f"{match[1]}.{match[2]}{match[3]}"
    return None if normalised == UNCLASSIFIED_NAF else f"naf:{normalised}"


def _shop(
    registration: ConnectorRegistration, mapping: dict[str, str], row: dict[str, str], locator: str
) -> ShopRecord | Rejection:
    def refuse(reason: str) -> Rejection:
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(row))

    if str(row.get("statutDiffusionEtablissement") or "").strip().upper() == "P":
        return refuse(
            "the establishment's data is not public (statutDiffusionEtablissement P): not listed"
        )
    view: dict[str, Any] = {k: None if v.strip() == NOT_DIFFUSED else v for k, v in row.items()}
    for field, spec in mapping.items():
        value = None if spec == ADDRESS else first_value(view, spec)
        if isinstance(value, str) and len(value.strip().splitlines()) > 1:
            return refuse(
                f"{field} (from {spec!r}) spans {len(value.strip().splitlines())} lines: a "
                "register field is one line; rows may have run together (an unbalanced quote)"
            )
    view[ADDRESS] = street_address(view)
    siret_spec = mapping.get("siret")
    siret = first_value(view, siret_spec) if siret_spec else None
    if siret is not None:
        digits = re.sub(r"[\s.]", "", str(siret))
        if len(digits) == 13 and digits.isdigit():
            digits = "0" + digits  # a spreadsheet ate the leading zero; Luhn cannot tell
        if not siret_is_valid(digits):
            return refuse(
                f"siret (from {siret_spec!r}): {siret!r} is not a valid SIRET "
                "(14 digits passing the Luhn check)"
            )
        view[str(siret_spec)] = digits
    category_spec = mapping.get("category")
    category = first_value(view, category_spec) if category_spec else None
    if isinstance(category, str):
        nomenclature = _text(view.get("nomenclatureActivitePrincipaleEtablissement"))
        view[str(category_spec)] = naf_category(category, nomenclature)
    shop = build_shop(registration, mapping, view, row, locator)
    if isinstance(shop, ShopRecord) and is_closed(row):
        shop.closed = True
    return shop


def siret_is_valid(siret: str) -> bool:
    """14 digits passing the Luhn check; La Poste's establishments (SIREN 356000000, but for its
    head office) pass when their digits add up to a multiple of 5. The same rule as
    ``dedupe.identifiers``, kept here so that connectors do not depend on the matcher."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        return sum(int(digit) for digit in siret) % 5 == 0
    total = 0
    for position, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _text(value: Any) -> str | None:
    return None if blank(value) else str(value).strip()


register(SireneKind())

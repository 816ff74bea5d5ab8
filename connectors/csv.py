"""Kind ``csv``: a CSV or TSV file (URL or local path), one shop per row (or one offer per row when
the mapping has ``offer.*`` fields only).

Delimiter and encoding are sniffed unless the options give them; the header is checked against
the mapping before any row is read; locators are the line a row starts on ("line 12").
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, ReadContext
from connectors.http import fetch_if_changed, validators
from connectors.mapping import (
    DuplicateGuard,
    excerpt,
    refusal,
    require_mapping,
    rows_are_offers,
    validate_mapping_columns,
)
from connectors.registry import check_by_reading, parse_options, register
from connectors.rows import item_reader

#: Sniffed in this order; the first that splits the sample most consistently wins.
DELIMITERS = (";", ",", "\t", "|")
SNIFF_CHARS = 64 * 1024
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
#: A well-formed UTF-8 sequence beyond ASCII: a file holding one is UTF-8, whatever else it holds.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
#: Where an undecodable byte was, in the text: one of these per byte (as ``surrogateescape``).
_BAD_BYTE = re.compile("[\udc80-\udcff]")
BAD_BYTES_HANDLER = "aggregator-bad-bytes"
# One oversized field is the record's problem (refused for its size), not the whole file's.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class Config(BaseModel):
    """Options of the ``csv`` kind."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str | None = Field(
        default=None, description="One character (or `tab`); sniffed among ; , tab | when absent."
    )
    encoding: str | None = Field(
        default=None,
        description="A Python codec name; sniffed (UTF-8 with or without BOM, else cp1252).",
    )
    quotechar: str = Field(default='"', min_length=1, max_length=1)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        value = _DELIMITER_NAMES.get(value.lower(), value) if value else None
        if value is not None and len(value) != 1:
            raise ValueError("a delimiter is one character, or `tab`")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value or None


class CsvKind:
    """Reads the whole file, then emits one item or rejection per non-empty row."""

    name: ClassVar[str] = "csv"
    Config: ClassVar[type[BaseModel]] = Config

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        mapping = registration.mapping
        require_mapping(mapping, "offer" if rows_are_offers(mapping) else "shop")
        url = registration.url
        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged since the last run: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        declared = declared_charset(response.headers.get("content-type", ""))
        text, bad_offsets, used = decode_rows(response.content, config.encoding, url, declared)
        bad = iter(bad_offsets)
        id_column = mapping.get(("offer." if rows_are_offers(mapping) else "") + "source_id")
        delimiter = config.delimiter or sniff_delimiter(text, config.quotechar)
        rows = numbered_rows(text, delimiter, config.quotechar, url)
        header = next((fields for _, fields in rows if any(f.strip() for f in fields)), None)
        if header is None:
            raise ConnectorError(f"{url} has no header line: the file is empty")
        if _BAD_BYTE.search("".join(header)):
            raise ConnectorError(f"cannot decode the header line of {url}; set the encoding option")
        header = [name.strip() for name in header]
        validate_mapping_columns(mapping, header, "the CSV header")
        _refuse_ambiguous_columns(mapping, header)
        item_from_row = item_reader(registration, DuplicateGuard())
        width, repeated = len(header), len(set(header)) < len(header)
        for line, fields in rows:
            if not "".join(fields).strip():  # blank: one strip, not one per field
                continue
            locator = f"line {line}"
            undecodable = bad_offsets and sum(len(_BAD_BYTE.findall(f)) for f in fields)
            if undecodable:  # refused, naming its id when that decoded: its last version stays
                offsets = [next(bad, -1) for _ in range(undecodable)]
                reason = (
                    f"{undecodable} byte(s) that are not {used}, the first at offset "
                    f"{offsets[0]}: the row is refused, the rest of the file is read"
                )
                at = header.index(id_column) if id_column in header else len(fields)
                source_id = fields[at].strip() if at < len(fields) else None
                model = OfferRecord if rows_are_offers(mapping) else ShopRecord
                refused = refusal(model, source_id, locator, reason, fields)
                yield refused.model_copy(
                    update={"excerpt": _BAD_BYTE.sub("\ufffd", refused.excerpt)}
                )
                continue
            if len(fields) > width:
                reason = f"{len(fields)} fields where the header has {width}"
                yield Rejection(locator=locator, reason=reason, excerpt=excerpt(fields))
                continue
            if len(fields) < width:
                fields = fields + [""] * (width - len(fields))  # trailing empties left out
            if repeated:  # a repeated column name: the first one counts
                row: dict[str, str] = {}
                for name, value in zip(header, fields, strict=True):
                    row.setdefault(name, value)
            else:
                row = dict(zip(header, fields, strict=True))
            yield item_from_row(row, locator, True)  # texts only: what orjson writes as is
        yield Checkpoint(state=validators(response), complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def declared_charset(content_type: str) -> str | None:
    """The ``charset`` a ``Content-Type`` header declares, when Python knows it."""
    found = _CHARSET.search(content_type)
    if not found:
        return None
    try:
        return codecs.lookup(found.group(1)).name
    except LookupError:
        return None


_offsets = threading.local()


def _record_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte becomes a marker the reader refuses, and its
    offset in the file is noted (per thread: two runs may decode at once)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _offsets.found.extend(range(error.start, error.end))
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), error.end


codecs.register_error(BAD_BYTES_HANDLER, _record_bad_bytes)


def decode_rows(
    content: bytes, encoding: str | None, url: str, declared: str | None = None
) -> tuple[str, list[int], str]:
    """The text of a file, the offsets of the bytes that did not decode, and the encoding
    read. Each undecodable byte is left in the text as a marker (U+DC80-U+DCFF) so its row is
    refused and the others read.

    The ``encoding`` option is strict (the first bad byte fails the run, naming its offset).
    Otherwise the charset the server declares, else UTF-8 (BOM or not) when the file holds
    UTF-8 sequences, else cp1252 (a legacy export): one stray latin-1 byte in a UTF-8 file
    refuses its row instead of turning every accent of the file into mojibake.
    """
    if encoding or content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode(content, encoding, url), [], encoding or "utf-16"
    if declared is None:
        try:
            return content.decode("utf-8-sig"), [], "utf-8"
        except UnicodeDecodeError:
            declared = "utf-8-sig" if _UTF8_SEQUENCE.search(content) else "cp1252"
    offsets: list[int] = []
    _offsets.found = offsets
    try:
        text = content.decode(declared, errors=BAD_BYTES_HANDLER).removeprefix("\ufeff")
    finally:
        del _offsets.found
    return text, offsets, declared.removesuffix("-sig")


def decode(content: bytes, encoding: str | None, url: str) -> str:
    """The text of a file: in ``encoding`` when given, else UTF-8 (BOM or not), else cp1252 for
    a file holding no UTF-8 at all (a legacy export). A UTF-8 file with a stray byte fails with
    its offset rather than being read whole as cp1252 (every accent turned into mojibake)."""
    if not encoding:
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif _UTF8_SEQUENCE.search(content):
            encoding = "utf-8-sig"
        else:
            return content.decode("cp1252", errors="replace")
    try:
        return content.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConnectorError(
            f"cannot decode {url} as {encoding.removesuffix('-sig')}: byte "
            f"{content[exc.start]:#04x} at offset "
            f"{exc.start}; set the encoding option"
        ) from None


def sniff_delimiter(text: str, quotechar: str = '"') -> str:
    """The delimiter among ``DELIMITERS`` that splits the first rows most consistently."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS:  # do not judge on a cut line
        sample = sample[: sample.rfind("\n") + 1] or sample
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            reader = csv.reader(
                io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=quotechar
            )
            widths = [len(row) for row in reader if any(field.strip() for field in row)][:50]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(width == widths[0] for width in widths) / len(widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def numbered_rows(
    text: str, delimiter: str, quotechar: str, url: str
) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on (a quoted field may hold newlines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar)
    start = 1
    try:
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ConnectorError(f"cannot parse {url} at line {start}: {exc}") from None


def _refuse_ambiguous_columns(mapping: dict[str, str], header: list[str]) -> None:
    for field, column in mapping.items():
        if header.count(column) > 1:
            raise ConnectorError(
                f"column {column!r} mapped to {field} appears {header.count(column)} times "
                "in the CSV header"
            )


register(CsvKind())

"""The three shapes of a Google Merchant product feed, read into one list of entries.

RSS 2.0 (``<rss><channel><item>``), Atom (``<feed><entry>``), both with attributes in the ``g:``
namespace, and tab-separated text with a header row of attribute names. Each entry is a dict of
attribute names without prefix (``id``, ``price``, ``pickup_sla``...) to text, to a dict for a
group such as ``shipping``, or to a list when an attribute repeats. Example::

    feed = read_feed(content, "auto", url)
    feed.format, feed.channel["title"], feed.entries[0].locator  # 'rss', 'Pallmann Store', ...
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorError
from connectors.csv import decode
from connectors.xml_safe import elements, local_name, namespace, parse_xml

G_NS = "http://base.google.com/ns/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
FORMATS = ("rss", "atom", "tsv")
#: Atom elements that stand for a Google attribute when the entry lacks the ``g:`` one.
_ATOM_ALIASES = {"summary": "description", "content": "description", "id": "atom_id"}


@dataclass
class Entry:
    """One product of the feed, where it is, and why it cannot be read (if it cannot)."""

    locator: str
    attributes: dict[str, Any]
    problem: str | None = None


@dataclass
class Feed:
    format: str
    #: The feed's own ``title`` and ``link`` (RSS channel, Atom feed); empty for TSV.
    channel: dict[str, str | None] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)


def read_feed(content: bytes, fmt: str, source: str) -> Feed:
    """The entries of a feed in ``fmt`` (``auto`` sniffs: XML by its root element, else TSV)."""
    if fmt == "tsv" or (fmt == "auto" and not looks_like_xml(content)):
        return _tsv_feed(content, source)
    root = parse_xml(content, source)
    found = {"rss": "rss", "feed": "atom"}.get(local_name(root.tag))
    if found is None:
        raise ConnectorError(
            f"{source}: the root element is <{local_name(root.tag)}>, neither an RSS <rss> nor "
            "an Atom <feed>"
        )
    if fmt not in ("auto", found):
        raise ConnectorError(f"{source}: option format is {fmt!r} but the feed is {found}")
    return _rss_feed(root, source) if found == "rss" else _atom_feed(root)


def looks_like_xml(content: bytes) -> bool:
    head = content[:1024]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode()
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _rss_feed(root: Any, source: str) -> Feed:
    channel = next((child for child in elements(root) if local_name(child.tag) == "channel"), None)
    if channel is None:
        raise ConnectorError(f"{source}: the RSS feed has no <channel>")
    feed = Feed(
        "rss", {"title": _child_text(channel, "title"), "link": _child_text(channel, "link")}
    )
    items = [child for child in elements(channel) if local_name(child.tag) == "item"]
    for number, item in enumerate(items, start=1):
        feed.entries.append(Entry(f"/rss/channel/item[{number}]", _attributes(item, {})))
    return feed


def _atom_feed(root: Any) -> Feed:
    feed = Feed("atom", {"title": _child_text(root, "title"), "link": _atom_link(root)})
    entries = [child for child in elements(root) if local_name(child.tag) == "entry"]
    for number, entry in enumerate(entries, start=1):
        feed.entries.append(Entry(f"/feed/entry[{number}]", _attributes(entry, _ATOM_ALIASES)))
    return feed


def _attributes(item: Any, aliases: dict[str, str]) -> dict[str, Any]:
    """``g:`` attributes first; RSS or Atom elements of the same name only where ``g:`` is absent
    (``<title>`` vs ``<g:title>``); repeated attributes become lists."""
    values: dict[str, Any] = {}
    rank: dict[str, int] = {}
    for child in elements(item):
        ns, name = namespace(child.tag), local_name(child.tag).lower()
        priority = 2 if ns == G_NS else 1 if ns in (None, ATOM_NS) else 0
        if priority < 2:
            name = aliases.get(name, name)
        if name == "link" and priority == 1 and child.get("rel", "alternate") != "alternate":
            continue  # an Atom rel="self" or "enclosure" link is not the product page
        value = _value(child)
        if value in ("", {}):
            continue
        if rank.get(name, -1) < priority:
            values[name], rank[name] = value, priority
        elif rank[name] == priority and name != "link":
            current = values[name]
            values[name] = [*current, value] if isinstance(current, list) else [current, value]
    return values


def _value(element: Any) -> Any:
    """Text, or a dict of sub-attributes (``<g:shipping><g:price>``); the parser bounds the
    nesting (256 levels)."""
    children = list(elements(element))
    if not children:
        return (element.text or "").strip() or element.get("href", "").strip()
    group: dict[str, Any] = {}
    for child in children:
        name, value = local_name(child.tag).lower(), _value(child)
        if name in group:
            current = group[name]
            group[name] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            group[name] = value
    return group


def _child_text(parent: Any, name: str) -> str | None:
    for child in elements(parent):
        if local_name(child.tag) == name and namespace(child.tag) in (None, ATOM_NS):
            return (child.text or "").strip() or None
    return None


def _atom_link(parent: Any) -> str | None:
    """The ``href`` of the alternate (or rel-less) Atom ``<link>``."""
    for child in elements(parent):
        if local_name(child.tag) != "link" or namespace(child.tag) not in (None, ATOM_NS):
            continue
        if child.get("rel", "alternate") == "alternate":
            href = child.get("href") or child.text
            return href.strip() if href else None
    return None


def _tsv_feed(content: bytes, source: str) -> Feed:
    """A text feed: tab-separated, one header row of attribute names (``g:`` prefix, spaces and
    case tolerated: ``Image Link`` is ``image_link``), locators are line numbers."""
    text = decode(content, None, source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar='"')
    feed, header, start = Feed("tsv"), None, 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in fields):
                continue
            if header is None:
                header = [_attribute_name(name) for name in fields]
                if "id" not in header:
                    shown = ", ".join(header[:20])
                    raise ConnectorError(f"{source}: the header line has no id column ({shown})")
                continue
            entry = Entry(f"line {line}", {})
            if len(fields) > len(header):
                entry.problem = f"{len(fields)} fields where the header has {len(header)}"
            for name, value in zip(header, fields, strict=False):
                if value.strip() and name not in entry.attributes:
                    entry.attributes[name] = value.strip()
            feed.entries.append(entry)
    except csv.Error as exc:
        raise ConnectorError(f"cannot parse {source} at line {start}: {exc}") from None
    if header is None:
        raise ConnectorError(f"{source} is empty: a text feed starts with a header line")
    return feed


def _attribute_name(name: str) -> str:
    return "_".join(name.strip().lower().removeprefix("g:").split())

"""XML from feeds, parsed with DTDs, entities and external references refused.

Every kind that reads XML goes through ``parse_xml``. A document declaring a ``<!DOCTYPE>`` (the
door to billion-laughs expansion and to XXE reads such as ``file:///etc/passwd``) is refused
before it is parsed; the parser itself (lxml) is configured never to resolve entities, load a DTD
or touch the network, and keeps libxml2's limits on depth and node size (``huge_tree=False``), so
a DOCTYPE that slipped past the first check is still inert, then refused. Example::

    root = parse_xml(response.content, response.url)
    for item in elements(root):
        ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from connectors.base import ConnectorError

REFUSAL = "feeds may not use DTDs or entities (billion-laughs and XXE attacks go through them)"
#: Where the prolog ends: the first start tag.
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,  # libxml2's limits: depth 256, text nodes of 10 MB
    "remove_comments": True,
    "remove_pis": True,
}


def parse_xml(content: bytes, source: str) -> Any:
    """The root element (lxml) of ``content``; ``ConnectorError`` naming ``source`` when the
    document declares a DTD or entities, or is not well-formed."""
    first = _FIRST_ELEMENT.search(content)
    doctype = content.find(b"<!DOCTYPE", 0, first.start() if first else len(content))
    if doctype >= 0:
        raise _refused(source)
    parser = etree.XMLParser(**_PARSER_OPTIONS)  # a parser is not thread-safe: one per document
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        reason = str(exc.msg).split(", line ", 1)[0]
        raise ConnectorError(
            f"cannot parse {source}: not well-formed XML at line {line}, column {column} ({reason})"
        ) from None
    if root is None:
        raise ConnectorError(f"cannot parse {source}: the document has no root element")
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refused(source)  # e.g. a DOCTYPE in UTF-16, which the byte scan cannot see
    return root


def elements(parent: Any) -> Iterator[Any]:
    """The child elements of ``parent`` (not comments, processing instructions or entities)."""
    return (child for child in parent if isinstance(child.tag, str))


def local_name(tag: str) -> str:
    """``{http://base.google.com/ns/1.0}price`` -> ``price``."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str | None:
    """``{http://base.google.com/ns/1.0}price`` -> ``http://base.google.com/ns/1.0``."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def _refused(source: str) -> ConnectorError:
    return ConnectorError(
        f"refused {source}: the document declares a DTD (<!DOCTYPE ...>); {REFUSAL}"
    )

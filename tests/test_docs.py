"""Docs keep up with the code: every setting and every connector kind is documented."""

from __future__ import annotations

from pathlib import Path

from aggregator.settings import Settings
from connectors.registry import get_kind, kinds

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_every_connector_kind_has_a_page_listed_in_the_index() -> None:
    index = (DOCS / "connectors.md").read_text(encoding="utf-8")
    for kind in kinds():
        page = DOCS / "kinds" / f"{kind}.md"
        assert page.is_file(), f"connector kind {kind!r} has no docs/kinds/{kind}.md"
        assert f"(kinds/{kind}.md)" in index, f"docs/connectors.md does not list {kind!r}"
        text = page.read_text(encoding="utf-8")
        options = get_kind(kind).Config.model_fields
        undocumented = [name for name in options if f"`{name}`" not in text]
        assert not undocumented, f"options of {kind!r} missing from its page: {undocumented}"

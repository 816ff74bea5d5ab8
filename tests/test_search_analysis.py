"""French analysis shared by the backends, and the query model's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from search import SearchQuery, Synonyms
from search.analysis import content_words, fold, highlight, key, light_stem, typo_budget, words

SYNONYMS = Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml"


def test_fold_and_keys() -> None:
    assert fold("Pâtisserie ŒUFS Crème") == "patisserie oeufs creme"
    assert words("L'Épicerie du Marché, 31000!") == ["l", "epicerie", "du", "marche", "31000"]
    assert key("Ramonville-Saint-Agne") == key(" ramonville saint agne ") == "ramonville saint agne"
    assert key("click_and_collect") == "click and collect"


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert content_words("boulangerie à côté de la gare") == ["boulangerie", "cote", "gare"]
    assert content_words("le la") == ["le", "la"]


@pytest.mark.parametrize(
    ("word", "budget"),
    [("pain", 0), ("pains", 1), ("boulange", 1), ("boulanger", 2), ("31000", 0), ("a1b2c3d4e5", 0)],
)
def test_typo_budget_is_meilisearch_s(word: str, budget: int) -> None:
    assert typo_budget(word) == budget


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("fleurs", "fleur"),
        ("gateaux", "gateau"),
        ("bijoux", "bijou"),
        ("bus", "bus"),
        ("fleur", "fleur"),
        ("express", "express"),
    ],
)
def test_light_stem_merges_plurals(word: str, stem: str) -> None:
    assert light_stem(word) == stem


def test_synonyms_load_and_segment_phrases() -> None:
    synonyms = Synonyms.load(SYNONYMS)
    units = synonyms.segment("Salon de coiffure à Blagnac")
    assert [u.words for u in units] == [("salon", "coiffure"), ("blagnac",)]
    assert ("coiffeur",) in units[0].alternatives
    assert units[1].alternatives == ()
    (boucher,) = synonyms.segment("bouchers")
    assert ("boucherie",) in boucher.alternatives
    (primeur,) = synonyms.segment("primeur")
    assert ("fruits", "legumes") in primeur.alternatives
    assert len(synonyms.segment(" ".join(f"mot{i}" for i in range(30)))) == 10


def test_synonyms_file_must_hold_groups(tmp_path: Path) -> None:
    bad = tmp_path / "synonyms.yaml"
    bad.write_text("groups: boucher\n")
    with pytest.raises(ValueError, match="groups"):
        Synonyms.load(bad)
    assert Synonyms().segment("boucher") == Synonyms.from_groups([["boucher"]]).segment("boucher")


def test_highlight_marks_matches_and_escapes_the_rest() -> None:
    text = "Tom & Jerry : pains <bio> et " + "viennoiseries " * 30 + "fin"
    marked = highlight(text, lambda w: w.startswith("pain"))
    assert marked is not None
    assert marked.startswith("Tom &amp; Jerry : <mark>pains</mark> &lt;bio&gt; et")
    assert marked.endswith("…") and "fin" not in marked
    assert highlight(text, lambda w: False) is None
    assert highlight(None, lambda w: True) is None
    far = highlight("x " * 200 + "levain", lambda w: w == "levain")
    assert far is not None and far.startswith("…") and far.endswith("<mark>levain</mark>")


def test_query_model_rules() -> None:
    query = SearchQuery()
    assert (query.page, query.per_page, query.sort) == (1, 20, "relevance")
    assert query.facets == ["city", "category", "platforms", "services"]
    with pytest.raises(ValidationError):
        SearchQuery(per_page=101)
    with pytest.raises(ValidationError):
        SearchQuery(page=0)
    with pytest.raises(ValidationError, match="unknown facet"):
        SearchQuery(facets=["price"])
    with pytest.raises(ValidationError, match="lat and lon"):
        SearchQuery(lat=43.6)
    with pytest.raises(ValidationError, match="need lat and lon"):
        SearchQuery(radius_m=1000)
    with pytest.raises(ValidationError, match="need lat and lon"):
        SearchQuery(sort="distance")
    assert SearchQuery(lat=43.6, lon=1.44, sort="distance").has_place

"""The term-frequency adjustment on names: rare shared words weigh more, common ones less."""

from __future__ import annotations

import json
import math

import pytest

from aggregator.models import ShopRecord
from dedupe import MatchModel, match_shops
from dedupe.matcher import update
from dedupe.prepare.columns_of import prepare
from dedupe.score.frequency import LEAST, MIN_NAMES, MOST, UNSEEN, NameFrequencies, bits_of


def shop(source_id: str, name: str, platform: str = "osm", **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


def test_bits_follow_log2_of_k_over_count_within_caps() -> None:
    assert bits_of(7) == 0.0
    assert bits_of(2) == pytest.approx(math.log2(3.5))
    assert bits_of(14) == pytest.approx(-1.0)
    assert bits_of(1) == MOST
    assert bits_of(10_000) == LEAST


def test_counts_need_enough_names_and_keep_words_held_three_times() -> None:
    few = [f"shop {i}" for i in range(MIN_NAMES - 1)]
    assert NameFrequencies.of_names([*few, None, ""]) is None
    names = [f"costa {i}" for i in range(MIN_NAMES)] + ["ange", "ange", "bon ange"]
    frequencies = NameFrequencies.of_names(names)
    assert frequencies is not None
    assert frequencies.counts["costa"] == MIN_NAMES
    assert frequencies.counts["ange"] == 3
    assert "bon" not in frequencies.counts and frequencies.count("bon") == UNSEEN
    # The rarest word the two names share decides; no shared word, no word.
    assert frequencies.rarest("costa bon", "bon costa") == ("bon", UNSEEN)
    assert frequencies.rarest("bon ange", "ange") == ("ange", 3)
    assert frequencies.rarest("boom barbers", "boombarbers") == (None, 0)


def test_a_word_spelt_otherwise_counts_as_shared_as_common_as_its_commoner_spelling() -> None:
    names = [f"st bar {i}" for i in range(MIN_NAMES)] + ["bernards"] * 4
    frequencies = NameFrequencies.of_names(names)
    assert frequencies is not None
    # "st" and "bar" are common; "bernhards" / "bernards" is the rarest thing the names share.
    assert frequencies.rarest("st bernhards bar", "st bernards bar") == ("bernhards~bernards", 4)
    # Another word, not a respelling: the common shared words decide.
    assert frequencies.rarest("st giles bar", "st mary bar")[1] == MIN_NAMES
    # Short words are not respelt ("bar" / "bat").
    assert frequencies.rarest("costa bar", "costa bat")[0] == "costa"


def test_counts_are_the_golden_records_word_uses() -> None:
    from dedupe.golden.typos import word_uses

    names = [f"costa {i}" for i in range(MIN_NAMES)] + ["bar bar ange", "ange"] * 2
    prepared = prepare([shop(str(i), n) for i, n in enumerate(names)])
    uses = word_uses(prepared)
    assert uses["bar"] == 2 and uses["ange"] == 4  # a word twice in one name counts once
    frequencies = NameFrequencies.of_uses(uses, len(names))
    assert frequencies is not None
    again = NameFrequencies.of_names(list(prepared.names))
    assert again is not None and frequencies.counts == again.counts


def _model(names: list[str]) -> MatchModel:
    frequencies = NameFrequencies.of_names(names)
    assert frequencies is not None
    return MatchModel(name_frequencies=frequencies)


def test_a_rare_shared_name_weighs_more_than_a_common_one() -> None:
    names = ["costa"] * 60 + [f"other {i}" for i in range(MIN_NAMES)]
    model = _model(names)
    records = [shop("1", "Costa"), shop("2", "Costa"), shop("3", "Ange"), shop("4", "Ange")]
    prepared = prepare(records)
    plain = MatchModel()
    common, _ = model.score_one(prepared, 0, 1)
    rare, _ = model.score_one(prepared, 2, 3)
    assert common == pytest.approx(plain.score_one(prepared, 0, 1)[0] + LEAST)
    # "ange" is not in the counts: held by the two records compared.
    assert rare == pytest.approx(plain.score_one(prepared, 2, 3)[0] + bits_of(UNSEEN))


def test_different_names_get_no_adjustment_and_explain_shows_the_term() -> None:
    model = _model(["costa"] * 60 + [f"other {i}" for i in range(MIN_NAMES)])
    prepared = prepare([shop("1", "Costa"), shop("2", "Costa"), shop("3", "Nero")])
    assert model.score_one(prepared, 0, 2)[0] == MatchModel().score_one(prepared, 0, 2)[0]
    detail = model.explain(prepared, 0, 1)
    term = detail["fields"]["frequency"]
    assert term["values"][0] == "costa" and term["measure"] == 60
    assert term["weight"] == pytest.approx(LEAST)
    assert detail["match_weight"] == pytest.approx(model.score_one(prepared, 0, 1)[0], abs=1e-3)
    assert model.explain(prepared, 0, 2)["fields"]["frequency"]["weight"] == 0.0


def test_pruning_stays_exact_with_the_adjustment() -> None:
    model = _model(["ange"] * 3 + [f"other {i}" for i in range(MIN_NAMES)])
    prepared = prepare([shop("1", "Ange"), shop("2", "Ange")])
    weight, _ = model.score_one(prepared, 0, 1)
    assert len(model.score(prepared, [0], [1], prune_below=weight - 1e-6)) == 1
    assert len(model.score(prepared, [0], [1], prune_below=weight + 1e-6)) == 0


def test_counts_are_saved_with_the_weights() -> None:
    model = _model(["ange"] * 5 + [f"other {i}" for i in range(MIN_NAMES)])
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.name_frequencies is not None
    assert dict(again.name_frequencies.counts) == dict(model.name_frequencies.counts)  # type: ignore[union-attr]
    prepared = prepare([shop("1", "Ange"), shop("2", "Ange")])
    assert again.score_one(prepared, 0, 1) == model.score_one(prepared, 0, 1)
    assert MatchModel.from_dict(MatchModel().to_dict()).name_frequencies is None


def test_weights_saved_with_other_levels_read_back_a_priori_for_those_comparisons() -> None:
    """A model saved by a release whose name or distance had other levels still loads."""
    saved = MatchModel().to_dict()
    saved["levels"]["name"] = saved["levels"]["name"][:4]
    saved["levels"]["email"] = [[0.5, 0.001], [0.5, 0.999]]
    model = MatchModel.from_dict(saved)
    assert model.comparison("name").weights == MatchModel().comparison("name").weights
    assert model.comparison("email").levels[0].m == 0.5
    assert "a priori for name" in model.source
    # Phones had two levels before the same-line level.
    saved["levels"]["phone"] = [[0.5, 0.001], [0.5, 0.999]]
    model = MatchModel.from_dict(saved)
    assert model.comparison("phone").weights == MatchModel().comparison("phone").weights
    assert "a priori for name, phone" in model.source


def test_a_run_counts_its_own_names_and_reuses_them_incrementally() -> None:
    records = [shop(str(i), f"Maison {i % 97} Ange", city="Toulouse") for i in range(250)]
    result = match_shops(records)
    frequencies = result.state.model.name_frequencies  # type: ignore[union-attr]
    assert frequencies is not None and frequencies.counts["ange"] == 250
    later = update(result, [shop("new", "Maison Ange", city="Toulouse")])
    assert later.state.model.name_frequencies is frequencies  # type: ignore[union-attr]
    small = match_shops(records[:100])
    assert small.state.model.name_frequencies is None  # type: ignore[union-attr]


def test_a_word_streets_hold_is_common_between_names_that_are_not_equal() -> None:
    names = [f"other {i}" for i in range(MIN_NAMES)] + ["grassmarket"] * 2
    frequencies = NameFrequencies.of_uses(
        {"grassmarket": 3, "other": MIN_NAMES}, len(names), {"grassmarket": 40, "hotel": 1}
    )
    assert frequencies is not None
    # Streets held once or twice say nothing, as names.
    assert dict(frequencies.streets) == {"grassmarket": 40}
    # "Grassmarket" (the street, a bus stop) and "Grassmarket Hotel": the word says where.
    assert frequencies.rarest("grassmarket", "grassmarket hotel") == ("grassmarket", 43)
    # Two equal names are one name, a street's or a shop's: its own count.
    assert frequencies.rarest("grassmarket", "grassmarket") == ("grassmarket", 3)


def test_a_run_counts_the_streets_its_addresses_name() -> None:
    streets = ["Grassmarket", "Leith Walk", "George Street", "Rose Street", "Pilrig Street"]
    records = [
        shop(str(i), f"Shop {i}", address=f"{i % 90 + 1} {streets[i % 5]}", lat=55.95, lon=-3.19)
        for i in range(250)
    ]
    records += [
        shop("g1", "Grassmarket", lat=55.9475, lon=-3.1960),
        shop("g2", "Grassmarket Hotel", platform="fsq", address="94-96 Grassmarket"),
        shop("p1", "Pilrig Park", lat=55.9680, lon=-3.1800),
        shop("p2", "Pilrig Park", platform="fsq", address="Pilrig Street"),
    ]
    result = match_shops(records)
    frequencies = result.state.model.name_frequencies  # type: ignore[union-attr]
    assert frequencies is not None and frequencies.streets["grassmarket"] == 51
    model, prepared = result.state.model, result.state.prepared
    row = result.state.row_of
    contained = model.explain(prepared, row["osm:g1"], row["fsq:g2"])["fields"]["frequency"]  # type: ignore[union-attr]
    assert contained["values"][0] == "grassmarket" and contained["weight"] < -2.5, contained
    equal = model.explain(prepared, row["osm:p1"], row["fsq:p2"])["fields"]["frequency"]  # type: ignore[union-attr]
    assert equal["weight"] > 0, equal
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))  # type: ignore[union-attr]
    assert again.name_frequencies is not None
    assert dict(again.name_frequencies.streets) == dict(frequencies.streets)


def test_equal_names_read_the_whole_names_count_and_shared_words_their_pairs_count() -> None:
    names = [f"broughton {i}" for i in range(MIN_NAMES)] + [f"high school {i}" for i in range(9)]
    names += ["broughton high school"] * 2 + ["broughton high school annexe"] * 6
    names += ["fort douglas", "fort douglas tickets"]
    names += ["douglas arms", "fort kinnaird"] * 3 + ["costa coffee"] * 5
    frequencies = NameFrequencies.of_names(names)
    assert frequencies is not None and frequencies.names is not None
    # "broughton" is a district's word, its words two by two are in the annexe's names too;
    # the whole name is these two records'.
    assert frequencies.count("broughton") == MIN_NAMES + 8
    assert frequencies.pairs is not None and frequencies.pairs["broughton school"] == 8
    assert frequencies.rarest("broughton high school", "broughton high school") == (
        "broughton high school",
        UNSEEN,
    )
    # A chain's equal names keep their count: the whole name is as common as its rarest word.
    assert frequencies.rarest("costa coffee", "costa coffee")[1] == 5
    # "douglas" (5 names) and "fort" (5) are commoner than "fort douglas" together (2).
    assert frequencies.rarest("fort douglas", "fort douglas tickets") == ("douglas fort", UNSEEN)
    assert frequencies.rarest("fort kinnaird", "fort douglas")[1] == 5


def test_word_pairs_are_not_read_when_a_shared_word_is_one_of_the_records_streets() -> None:
    names = [f"other {i}" for i in range(MIN_NAMES)] + ["haymarket hotel"] + ["apex"] * 3
    frequencies = NameFrequencies.of_uses(
        {"haymarket": 4, "hotel": 30, "other": MIN_NAMES},
        len(names),
        {"haymarket": 40},
        names,
    )
    assert frequencies is not None
    # "Apex Haymarket Hotel" / "Haymarket Hotel" at 90 Haymarket Terrace: the street's word
    # says where the hotel is, not which.
    at = frozenset({"haymarket", "terrace"})
    assert frequencies.rarest("apex haymarket hotel", "haymarket hotel", at) == ("hotel", 30)
    # Elsewhere no other name holds the two words together: the pair's own.
    assert frequencies.rarest("apex haymarket hotel", "haymarket hotel") == (
        "haymarket hotel",
        UNSEEN,
    )


def test_a_run_reads_the_records_own_streets_pair_by_pair() -> None:
    streets = ["Grassmarket", "Leith Walk", "George Street", "Rose Street", "Pilrig Street"]
    records = [
        shop(
            str(i),
            f"{('Haymarket Bar', 'Hotel', 'Tollcross Cafe', 'Shop')[i % 4]} {i}",
            address=f"{i % 90 + 1} {streets[i % 5]}",
            lat=55.95,
            lon=-3.19,
        )
        for i in range(250)
    ]
    records += [
        shop(
            "h1", "Apex Haymarket Hotel", address="90 Haymarket Terrace", lat=55.9460, lon=-3.2180
        ),
        shop("h2", "Haymarket Hotel", platform="fsq", lat=55.9462, lon=-3.2182),
        shop("f1", "Apex Tollcross Hotel", lat=55.9300, lon=-3.2500),
        shop("f2", "Tollcross Hotel", platform="fsq", lat=55.9302, lon=-3.2502),
    ]
    result = match_shops(records, keep_pairs=True)
    model, prepared, row = result.state.model, result.state.prepared, result.state.row_of
    assert model is not None and model.name_frequencies is not None
    pairs = [(row["osm:h1"], row["fsq:h2"]), (row["osm:f1"], row["fsq:f2"])]
    at_street, elsewhere = (model.explain(prepared, i, j)["fields"]["frequency"] for i, j in pairs)
    assert at_street["values"][0] in ("haymarket", "hotel") and at_street["weight"] < 0, at_street
    assert elsewhere["values"] == ["hotel tollcross", f"in {UNSEEN} records"], elsewhere
    # Scoring reads the same, pair by pair, as the explanation.
    scored = model.score(prepared, [p[0] for p in pairs], [p[1] for p in pairs])
    for k, (i, j) in enumerate(pairs):
        assert scored.weights[k] == pytest.approx(
            model.explain(prepared, i, j)["match_weight"], abs=1e-2
        )
    assert scored.weights[1] > scored.weights[0]


def test_whole_names_and_word_pairs_are_saved_with_the_weights() -> None:
    names = [f"shop {i}" for i in range(MIN_NAMES)] + ["costa coffee"] * 4
    model = _model(names)
    saved = json.loads(json.dumps(model.to_dict()))
    assert saved["name_counts"] == {"costa coffee": 4}
    assert saved["name_word_pair_counts"] == {"coffee costa": 4}
    again = MatchModel.from_dict(saved)
    assert again.name_frequencies is not None
    assert again.name_frequencies.rarest("costa coffee", "costa coffee") == ("coffee", 4)
    # Weights saved before these counts read the words alone, as they did.
    del saved["name_counts"], saved["name_word_pair_counts"]
    older = MatchModel.from_dict(saved).name_frequencies
    assert older is not None and older.names is None and older.pairs is None
    assert older.rarest("shop costa", "costa shop") == ("costa", 4)


def test_a_run_reads_a_rare_whole_name_made_of_common_words() -> None:
    records = [
        shop(str(i), f"Broughton {('Bar', 'Deli', 'High School Annexe', 'Books')[i % 4]} {i}",
             lat=55.95 + i * 1e-4, lon=-3.19)
        for i in range(250)
    ]  # fmt: skip
    records += [
        shop("s1", "Broughton High School", lat=55.9600, lon=-3.2100),
        shop("s2", "Broughton High School", platform="fsq", lat=55.9605, lon=-3.2105),
    ]
    result = match_shops(records)
    model, prepared, row = result.state.model, result.state.prepared, result.state.row_of
    assert model is not None and model.name_frequencies is not None
    explained = model.explain(prepared, row["osm:s1"], row["fsq:s2"])["fields"]["frequency"]
    assert explained["values"] == ["broughton high school", f"in {UNSEEN} records"], explained
    assert explained["weight"] == pytest.approx(bits_of(UNSEEN), abs=1e-3)
    later = update(result, [shop("s3", "Broughton High School", platform="yelp")])
    assert later.state.model.name_frequencies is model.name_frequencies  # type: ignore[union-attr]

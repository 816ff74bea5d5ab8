"""Blocking: duplicates meet, the pair count stays near-linear, big blocks are skipped."""

from __future__ import annotations

import random

import numpy as np

from aggregator.models import ShopRecord
from dedupe.block.index import candidate_pairs
from dedupe.block.keys import BlockingRules
from dedupe.prepare.columns_of import prepare

POSTCODES = ["31000", "31100", "31200", "31300", "31400", "31500", "31670", "31130", "31770"]
KINDS = ["Boulangerie", "Boucherie", "Fromagerie", "Épicerie", "Pharmacie", "Fleuriste", "Bar"]
SYLLABLES = ["ma", "ri", "lo", "ta", "pe", "su", "ne", "vo", "ka", "di", "mon", "bel", "gar"]


def synthetic(n: int, seed: int = 7) -> tuple[list[ShopRecord], list[tuple[str, str]]]:
    """``n`` distinct shops, a fifth of them listed again by a second platform with noise."""
    rng = random.Random(seed)
    records: list[ShopRecord] = []
    pairs: list[tuple[str, str]] = []
    for i in range(n):
        owner = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
        name = f"{rng.choice(KINDS)} {owner}"
        postcode = rng.choice(POSTCODES)
        lat, lon = 43.55 + rng.random() * 0.12, 1.36 + rng.random() * 0.16
        phone = f"05 6{rng.randint(1, 2)} {rng.randint(10, 99)} {rng.randint(10, 99)} {i % 100:02d}"
        address = f"{rng.randint(1, 120)} rue {rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}"
        records.append(
            ShopRecord(
                platform="alpha",
                source_id=str(i),
                name=name,
                postcode=postcode,
                lat=lat,
                lon=lon,
                phone=phone,
                address=address,
            )
        )
        if i % 5 == 0:
            noisy = name.replace("e", "é", 1) if i % 2 else f"SARL {name.upper()}"
            records.append(
                ShopRecord(
                    platform="beta",
                    source_id=f"b{i}",
                    name=noisy,
                    lat=lat + 0.0002,
                    lon=lon,
                    postcode=None if i % 3 == 0 else postcode,
                    phone=None if i % 4 == 0 else phone.replace(" ", ""),
                )
            )
            pairs.append((f"alpha:{i}", f"beta:b{i}"))
    return records, pairs


def test_candidate_pairs_are_near_linear_and_find_the_duplicates() -> None:
    records, truth = synthetic(3000)
    prepared = prepare(records)
    blocks = candidate_pairs(prepared)
    n = len(records)
    assert len(blocks) < 5 * n, blocks.stats
    found = {(prepared.keys[a], prepared.keys[b]) for a, b in zip(blocks.a, blocks.b, strict=True)}
    found |= {(b, a) for a, b in found}
    missed = [pair for pair in truth if pair not in found]
    assert not missed, missed[:5]
    assert all(a < b for a, b in zip(blocks.a, blocks.b, strict=True))
    assert len(set(zip(blocks.a, blocks.b, strict=True))) == len(blocks)


def test_records_without_postcode_meet_by_address_or_place() -> None:
    records = [
        ShopRecord(
            platform="a",
            source_id="1",
            name="Le Fournil de Léa",
            address="12 rue de la Pomme",
            postcode="31000",
        ),
        ShopRecord(
            platform="b", source_id="1", name="Boulangerie Léa", address="12 r. de la Pomme"
        ),
        ShopRecord(platform="a", source_id="2", name="Chez Marcel", lat=43.6000, lon=1.4400),
        ShopRecord(platform="b", source_id="2", name="Marcel", lat=43.6011, lon=1.4405),
        ShopRecord(platform="c", source_id="3", name="Marcel", lat=43.7000, lon=1.4405),
        ShopRecord(
            platform="a", source_id="4", name="Cordonnerie Ribot", postcode="31300", city="Toulouse"
        ),
        ShopRecord(platform="b", source_id="4", name="Ribot", city="TOULOUSE"),
    ]
    blocks = candidate_pairs(prepare(records))
    pairs = set(zip(blocks.a, blocks.b, strict=True))
    keys = prepare(records).keys
    named = {(keys[a], keys[b]) for a, b in pairs}
    assert ("a:1", "b:1") in named
    assert ("a:2", "b:2") in named
    assert ("a:4", "b:4") in named
    assert not any("c:3" in pair for pair in named)  # 11 km away


def test_records_without_position_meet_by_town_whatever_their_postcodes() -> None:
    # Two postcodes of one town ("65060-645" / "65052-050" in São Luís) and no points: the
    # town and a name word bring them together; with points, places meet by position instead.
    def shop(platform: str, postcode: str, **where: float) -> ShopRecord:
        return ShopRecord(
            platform=platform,
            source_id="1",
            name="Hospital São Domingos" if platform < "c" else "Hospital São Domingos Exames",
            postcode=postcode,
            city="São Luís",
            **where,  # type: ignore[arg-type]
        )

    def named(records: list[ShopRecord]) -> set[tuple[str, str]]:
        prepared = prepare(records)
        blocks = candidate_pairs(prepared)
        keys = prepared.keys
        return {(keys[a], keys[b]) for a, b in zip(blocks.a, blocks.b, strict=True)}

    assert ("a:1", "c:1") in named([shop("a", "65060-645"), shop("c", "65052-050")])
    far = {"lat": 43.6, "lon": 1.44}, {"lat": 43.7, "lon": 1.44}
    assert not named([shop("a", "65060-645", **far[0]), shop("c", "65052-050", **far[1])])


def test_oversized_blocks_are_skipped() -> None:
    records = [
        ShopRecord(platform="p", source_id=str(i), name=f"Shop {i}", email="contact@platform.fr")
        for i in range(30)
    ]
    blocks = candidate_pairs(prepare(records, drop_shared=False), BlockingRules(max_block_size=10))
    assert len(blocks) == 0
    assert blocks.stats["skipped_blocks_email"] == 1


GREEK = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa")


def test_identifiers_shared_by_many_shops_are_ignored() -> None:
    records = [
        ShopRecord(platform="p", source_id=str(i), name=f"Boutique {name}", phone="05 61 00 00 00")
        for i, name in enumerate(GREEK)
    ]
    prepared = prepare(records)
    assert not prepared.phone1.any() and not prepared.phone2.any()
    assert prepared.shared["phones"] == {33561000000}


def test_pairs_made_in_slices_are_the_pairs_made_at_once() -> None:
    from dedupe.block.index import _pairs_within

    rng = np.random.default_rng(7)
    group = np.sort(rng.integers(0, 40, 300))
    rows = rng.permutation(300)

    def pairs(budget: int) -> set[tuple[int, int, int]]:
        out: set[tuple[int, int, int]] = set()
        slices = list(_pairs_within(group, rows, budget))
        for a, b, of in slices:
            out |= set(zip(a.tolist(), b.tolist(), of.tolist(), strict=True))
        assert sum(len(a) for a, _, _ in slices) == len(out)  # each pair once
        return out

    whole = pairs(1 << 30)
    sizes = np.bincount(group)
    assert len(whole) == int((sizes * (sizes - 1) // 2).sum())
    assert pairs(5) == whole and pairs(1) == whole

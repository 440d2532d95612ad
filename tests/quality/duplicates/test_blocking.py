"""Blocking finds the pairs that share a key, all of them in a small block and the nearest
neighbours in a crowded one, each pair once."""

from __future__ import annotations

import numpy as np

from cible.quality.duplicates import blocking


def pairs_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs}


def test_every_pair_of_a_small_block_and_nothing_across_blocks() -> None:
    codes = np.array([5, 1, 5, -1, 1, 5, 9], dtype=np.int64)
    order = np.arange(len(codes), dtype=np.int64)
    pairs, stats = blocking.exact_pairs(codes, order)
    assert pairs_set(pairs) == {(0, 2), (0, 5), (2, 5), (1, 4)}
    assert stats["blocks"] == 2 and stats["largest"] == 3 and stats["keyed_rows"] == 6


def test_a_crowded_block_compares_neighbours_in_name_order_only() -> None:
    size = 50
    codes = np.zeros(size, dtype=np.int64)
    order = np.arange(size, dtype=np.int64)[::-1].copy()  # name order is the reverse of rows
    pairs, stats = blocking.exact_pairs(codes, order, cap=10, window=3)
    found = pairs_set(pairs)
    assert stats["crowded_rows"] == size
    assert len(found) == 3 * size - 6  # each row with its next 3 neighbours
    assert (48, 49) in found and (46, 49) in found and (45, 49) not in found


def test_blocks_just_under_the_cap_are_compared_fully() -> None:
    codes = np.array([0] * 30 + [1] * 2, dtype=np.int64)
    order = np.arange(32, dtype=np.int64)
    pairs, _stats = blocking.exact_pairs(codes, order, cap=30, window=2)
    assert len(pairs) == 30 * 29 // 2 + 1


def test_candidate_pairs_merges_keys_without_repeating_a_pair() -> None:
    siren = np.array([1, 1, -1, -1], dtype=np.int64)
    name = np.array([7, 7, 7, -1], dtype=np.int64)
    order = np.arange(4, dtype=np.int64)
    keys = [blocking.Key("siren", siren, order), blocking.Key("name", name, order)]
    pairs, stats = blocking.candidate_pairs(keys, 4)
    assert pairs_set(pairs) == {(0, 1), (0, 2), (1, 2)}
    assert [s.key for s in stats] == ["siren", "name"]
    assert [s.pairs for s in stats] == [1, 3]


def test_fuzzy_key_keeps_only_alike_names() -> None:
    names = ["conseil dupont", "conseil dupnot", "conseil durand", "informatique dupont"]
    codes = np.array([3, 3, 3, 3], dtype=np.int64)
    order = np.arange(4, dtype=np.int64)
    pairs, info = blocking.similar_pairs(codes, order, names, cutoff=85)
    assert pairs_set(pairs) == {(0, 1)}
    assert info["comparisons"] == 6


def test_a_crowded_fuzzy_block_is_cut_into_overlapping_slices() -> None:
    names = [f"societe {n:04d}" for n in range(50)]
    codes = np.zeros(50, dtype=np.int64)
    order = np.arange(50, dtype=np.int64)
    pairs, info = blocking.similar_pairs(codes, order, names, cutoff=0, cap=10)
    found = pairs_set(pairs)
    assert info["crowded_rows"] == 50
    assert (0, 9) in found and (5, 14) in found  # within one slice of 10
    assert (0, 10) not in found and (0, 49) not in found  # never all against all
    assert info["comparisons"] < 50 * 49 // 2

"""Blocking: which records are worth comparing at all.

Comparing every pair of a million organisations is 5·10¹¹ comparisons (about ten hours of
rapidfuzz here). Instead each record gets a few blocking keys and only records sharing a key are
compared:

- *exact* keys (SIREN, domain, phone, email …): every pair of a block, since sharing the key is
  itself the evidence; a block of more than `cap` records (a switchboard shared by a group) is
  sorted and each record paired with its `window` nearest neighbours only;
- *fuzzy* keys (the first letters of a name in a department …): the names of a block are compared
  all against all in C++ (rapidfuzz `cdist` with a cut-off), and only pairs whose names are alike
  come out. A block of more than `cap` records ("conseil" in Paris) is sorted by name and cut into
  overlapping slices of `cap` records, so no comparison set ever exceeds `cap`².

Keys come in as integer codes per row (-1 for "no key"); pairs go out as row positions, smaller
first, each pair once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

BLOCK_CAP = 200
WINDOW = 12

Codes = npt.NDArray[np.int64]
Pairs = npt.NDArray[np.int64]  # shape (n, 2): row positions (i < j)


@dataclass(frozen=True)
class Key:
    """One blocking key: its codes per row, the order of rows within a block, and for a fuzzy
    key the texts compared (with the least similarity, 0–100, worth keeping)."""

    name: str
    codes: Codes
    order: Codes
    texts: Sequence[str] | None = None
    cutoff: float = 0.0


@dataclass(frozen=True)
class BlockStats:
    key: str
    keyed_rows: int
    blocks: int
    largest: int
    crowded_rows: int  # rows in blocks past the cap
    comparisons: int  # pairs looked at (all pairs of a fuzzy block, or the pairs emitted)
    pairs: int


def _blocks(codes: Codes, order: Codes) -> tuple[Codes, Codes, Codes]:
    """Rows with a key sorted by (key, order), and the start and end of each block of ≥ 2."""
    rows = np.flatnonzero(codes >= 0)
    sorted_rows = rows[np.lexsort((order[rows], codes[rows]))]
    key = codes[sorted_rows]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    several = (ends - starts) >= 2
    return sorted_rows, starts[several], ends[several]


def exact_pairs(
    codes: Codes, order: Codes, *, cap: int = BLOCK_CAP, window: int = WINDOW
) -> tuple[Pairs, dict[str, int]]:
    """Pairs of rows sharing a code: all of them in a block of at most `cap` rows, the `window`
    nearest in `order` in a larger one."""
    rows = np.flatnonzero(codes >= 0)
    empty = np.empty((0, 2), dtype=np.int64)
    info = {"keyed_rows": len(rows), "blocks": 0, "largest": 0, "crowded_rows": 0}
    if len(rows) < 2:
        return empty, info
    sorted_rows = rows[np.lexsort((order[rows], codes[rows]))]
    key = codes[sorted_rows]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    size_of_row = np.repeat(sizes, sizes)
    small = sizes[sizes <= cap]
    reach = max(window, int(small.max()) - 1 if len(small) else 0)
    chunks: list[Pairs] = []
    live = size_of_row >= 2
    positions, key, size_of_row = sorted_rows[live], key[live], size_of_row[live]
    for offset in range(1, reach + 1):
        if len(key) <= offset:
            break
        same = key[:-offset] == key[offset:]
        if offset > window:
            same &= size_of_row[:-offset] <= cap
        found = np.flatnonzero(same)
        if len(found):
            chunks.append(np.stack([positions[found], positions[found + offset]], axis=1))
        if offset >= window:
            # Past the window only small blocks still pair: drop the rows of blocks too small to
            # reach the next offset, and those of crowded blocks.
            keep = (size_of_row > offset + 1) & (size_of_row <= cap)
            if not keep.all():
                positions, key, size_of_row = positions[keep], key[keep], size_of_row[keep]
    info.update(
        blocks=int((sizes >= 2).sum()),
        largest=int(sizes.max()),
        crowded_rows=int(sizes[sizes > cap].sum()),
    )
    if not chunks:
        return empty, info
    return np.sort(np.concatenate(chunks), axis=1), info


def similar_pairs(
    codes: Codes,
    order: Codes,
    texts: Sequence[str],
    *,
    cutoff: float,
    cap: int = BLOCK_CAP,
) -> tuple[Pairs, dict[str, int]]:
    """Pairs of rows sharing a code whose `texts` are at least `cutoff` alike (rapidfuzz ratio),
    compared all against all within each block, or within overlapping slices of `cap` rows of a
    larger block sorted by `order`."""
    sorted_rows, starts, ends = _blocks(codes, order)
    step = max(1, cap // 2)
    found: list[Pairs] = []
    comparisons = crowded = largest = 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        size = end - start
        largest = max(largest, size)
        if size > cap:
            crowded += size
            slices = [(s, min(s + cap, end)) for s in range(start, end - step, step)]
        else:
            slices = [(start, end)]
        for first, last in slices:
            members = sorted_rows[first:last]
            names = [texts[k] for k in members]
            scores = process.cdist(
                names, names, scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.uint8, workers=1
            )
            comparisons += len(members) * (len(members) - 1) // 2
            left, right = np.nonzero(np.triu(scores, 1))
            if len(left):
                found.append(np.stack([members[left], members[right]], axis=1))
    info = {
        "keyed_rows": int((codes >= 0).sum()),
        "blocks": len(starts),
        "largest": largest,
        "crowded_rows": crowded,
        "comparisons": comparisons,
    }
    if not found:
        return np.empty((0, 2), dtype=np.int64), info
    return np.sort(np.concatenate(found), axis=1), info


def candidate_pairs(keys: Iterable[Key], rows: int) -> tuple[Pairs, list[BlockStats]]:
    """Every pair found by at least one key, once, smaller row first, sorted."""
    found: list[Pairs] = []
    stats: list[BlockStats] = []
    for key in keys:
        if key.texts is not None:
            pairs, info = similar_pairs(key.codes, key.order, key.texts, cutoff=key.cutoff)
        else:
            pairs, info = exact_pairs(key.codes, key.order)
            info["comparisons"] = len(pairs)
        found.append(pairs)
        stats.append(
            BlockStats(
                key.name,
                keyed_rows=info["keyed_rows"],
                blocks=info["blocks"],
                largest=info["largest"],
                crowded_rows=info["crowded_rows"],
                comparisons=info["comparisons"],
                pairs=len(pairs),
            )
        )
    if not found:
        return np.empty((0, 2), dtype=np.int64), stats
    merged = np.concatenate(found)
    packed = np.unique(merged[:, 0] * rows + merged[:, 1])
    return np.stack([packed // rows, packed % rows], axis=1), stats

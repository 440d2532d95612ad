"""Which row of the file wrote each record a run has written so far, in numpy arrays.

A run remembers, for every record it created or updated, the row that did it: a later row that
lands on the same record is a duplicate, and its message names that row. A dict of a million
ids held ~90 MB (two int objects and an entry each), which a million-row import carried to its
end; sorted arrays hold 16 bytes a record. They are kept as a few sorted runs, two runs merged
whenever the newer is at least half the older's size, so a batch looks its ids up in a handful
of binary searches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


class WrittenRows:
    """Record id -> the file row that wrote it (the first, if several did)."""

    def __init__(self) -> None:
        self._runs: list[tuple[Ints, Ints]] = []  # (ids sorted, their rows), oldest first

    def add(self, ids: Sequence[int], rows: Sequence[int]) -> None:
        if not ids:
            return
        self._runs.append(_sorted(np.asarray(ids, dtype=np.int64), np.asarray(rows, np.int64)))
        while len(self._runs) > 1 and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            newer_ids, newer_rows = self._runs.pop()
            older_ids, older_rows = self._runs.pop()
            self._runs.append(
                _sorted(
                    np.concatenate([older_ids, newer_ids]),
                    np.concatenate([older_rows, newer_rows]),
                )
            )

    def rows_of(self, ids: Iterable[int]) -> dict[int, int]:
        """{id: row} for those of `ids` the run has written."""
        wanted = np.fromiter(ids, dtype=np.int64)
        found: dict[int, int] = {}
        if not wanted.size:
            return found
        for run_ids, run_rows in self._runs:
            at = np.minimum(np.searchsorted(run_ids, wanted), len(run_ids) - 1)
            hit = run_ids[at] == wanted
            for record, row in zip(wanted[hit].tolist(), run_rows[at[hit]].tolist(), strict=True):
                found.setdefault(record, row)
        return found


def _sorted(ids: Ints, rows: Ints) -> tuple[Ints, Ints]:
    """By id; where an id came twice, the earlier row first (a stable sort keeps it first)."""
    order = np.argsort(ids, kind="stable")
    return ids[order], rows[order]

"""The rows a run wrote each record from, kept in sorted numpy runs instead of a dict."""

from __future__ import annotations

import random

from cible.quality.imports.written_rows import WrittenRows


def test_each_record_names_the_first_row_that_wrote_it_across_batches() -> None:
    written = WrittenRows()
    reference: dict[int, int] = {}
    generator = random.Random(4)
    row = 0
    for _batch in range(40):  # forty batches of uneven size: runs are merged along the way
        ids = generator.sample(range(1, 5_000), generator.randint(0, 120))
        rows = list(range(row + 1, row + 1 + len(ids)))
        row += len(ids)
        written.add(ids, rows)
        for pk, at in zip(ids, rows, strict=True):
            reference.setdefault(pk, at)
    assert len(written._runs) < 10  # a handful of binary searches per batch, not forty
    asked = list(range(0, 5_100, 3))
    assert written.rows_of(asked) == {pk: reference[pk] for pk in asked if pk in reference}
    assert written.rows_of([]) == {}
    assert WrittenRows().rows_of([1, 2]) == {}


def test_a_duplicate_in_a_later_batch_names_the_row_of_the_earlier_one() -> None:
    written = WrittenRows()
    written.add([10, 30, 20], [1, 2, 3])
    written.add([40], [4])
    written.add([30], [9])  # a record written again later: its first row stays the answer
    assert written.rows_of([30, 20, 99, 40]) == {30: 2, 20: 3, 40: 4}

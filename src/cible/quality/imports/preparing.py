"""A batch read and normalised, ready to be matched: pure, no database.

Kept apart from the batch loop (`pipeline.py`) and the batch's transaction (`committing.py`)
because it runs in a thread of its own, beside the writes of the previous batch, and must
therefore never touch the database: what lives here is the part of a batch that only needs the
file's cells and the entity's normalisers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.utils import translation

from cible.core.errors import FieldError
from cible.quality.imports import extras, registry
from cible.quality.imports.columns import NormalisedBatch, normalise_batch
from cible.quality.imports.reading import ROW

# An error file neutralises cells a spreadsheet would read as a formula with an apostrophe
# (core.csv_export): taken off again when such a file comes back.
_QUOTED = r"^'([=+\-@\t\r])"

Timings = defaultdict[str, float]  # seconds per phase: read, normalise, match, write


@dataclass
class Prepared:
    """A batch read and normalised, ready to be matched and written."""

    frame: pl.DataFrame
    batch: NormalisedBatch
    errors: dict[int, list[FieldError]]  # rows rejected
    create_errors: dict[int, list[FieldError]]  # rows that may only update
    rows: list[int]  # the rows to match, and their values
    values: list[dict[str, Any]]
    first_row: int
    last_row: int


def timed(iterator: Iterator[pl.DataFrame], timings: Timings) -> Iterator[pl.DataFrame]:
    """The frames of `iterator`, the time spent reading them added to `timings["read"]`."""
    while True:
        began = time.perf_counter()
        frame = next(iterator, None)
        timings["read"] += time.perf_counter() - began
        if frame is None:
            return
        yield frame


def _unquote(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).str.replace(_QUOTED, "${1}") for c in columns)


def _prepare(
    frame: pl.DataFrame,
    entity: registry.ImportableEntity,
    mapping: dict[str, str],
    mapped_columns: list[str],
    blanks: frozenset[str] = frozenset(),
) -> Prepared:
    """Normalise one batch: pure, no database (it runs beside the writes, below). The error
    file keeps the cells as they were (`frame`), blank literals included."""
    cells = extras.blank_out(_unquote(frame, mapped_columns), mapped_columns, blanks)
    batch = normalise_batch(entity, cells, mapping)
    errors, create_errors = split_errors(entity, frame, mapping, batch.errors)
    keep = [i for i, row in enumerate(batch.rows) if row not in errors]
    return Prepared(
        frame=frame,
        batch=batch,
        errors=errors,
        create_errors=create_errors,
        rows=[batch.rows[i] for i in keep],
        values=[batch.values[i] for i in keep],
        first_row=int(frame[ROW].min()),  # type: ignore[arg-type]
        last_row=int(frame[ROW].max()),  # type: ignore[arg-type]
    )


def prepared_batches(
    frames: Iterator[pl.DataFrame],
    entity: registry.ImportableEntity,
    mapping: dict[str, str],
    mapped_columns: list[str],
    blanks: frozenset[str],
    timings: Timings,
) -> Iterator[Prepared]:
    """The batches, each read and normalised in a thread while the previous one is matched and
    written: polars and the database driver release the GIL, so on two cores reading and
    normalising batch n + 1 mostly costs nothing beside the writes of batch n."""

    language = translation.get_language()  # thread-local: the messages of the run's language

    def next_batch() -> Prepared | None:
        with translation.override(language):
            while (frame := next(frames, None)) is not None:
                if frame.height:
                    began = time.perf_counter()
                    prepared = _prepare(frame, entity, mapping, mapped_columns, blanks)
                    timings["normalise"] += time.perf_counter() - began
                    return prepared
        return None

    timings["read"] += 0.0  # both keys exist before the thread adds to them
    timings["normalise"] += 0.0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as pool:
        pending = pool.submit(next_batch)
        try:
            while True:
                began = time.perf_counter()
                prepared = pending.result()
                timings["wait"] += time.perf_counter() - began
                if prepared is None:
                    return
                pending = pool.submit(next_batch)
                yield prepared
        finally:
            pending.cancel()  # a cancel or an error: at most the batch under way is finished


def split_errors(
    entity: Any,
    frame: pl.DataFrame,
    mapping: dict[str, str],
    errors: dict[int, list[FieldError]],
) -> tuple[dict[int, list[FieldError]], dict[int, list[FieldError]]]:
    """(rows rejected, rows that may only update): an error on a field whose cell is empty or
    not in the file ("legal name is required") stops a row from creating a record, not from
    completing an existing one — a file of SIRENs and phone numbers updates what it finds."""
    if not errors:
        return {}, {}
    column_of = {target: column for column, target in mapping.items()}
    columns = sorted({c for errs in errors.values() for e in errs if (c := column_of.get(e.field))})
    picked = frame.filter(pl.col(ROW).is_in(sorted(errors))).select(ROW, *columns)
    cells = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in picked.iter_rows()}
    rejected: dict[int, list[FieldError]] = {}
    create_only: dict[int, list[FieldError]] = {}
    for row, found in errors.items():

        def blank(error: FieldError, row: int = row) -> bool:
            column = column_of.get(error.field)
            cell = cells.get(row, {}).get(column) if column else None
            return error.field in entity.specs and (cell is None or not str(cell).strip())

        if all(blank(error) for error in found):
            create_only[row] = found
        else:
            rejected[row] = found
    return rejected, create_only

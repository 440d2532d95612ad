"""Very large runs set the table's secondary indexes aside and build them once at the end.

See `core.indexes` for why and how it stays safe (a kill leaves the list of what to rebuild).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max

from cible.core.indexes import restore_indexes, suspend_indexes
from cible.quality.imports.registry import ImportableEntity

# A run with at least this many rows still to load, that mostly creates records and would at
# least double the table, builds the table's secondary indexes once at the end.
DEFAULT_REBUILD_INDEXES_FROM = 100_000
# Such a run into a table of at most this many records sets aside the indexes it matches through
# as well: keeping them cost a third of a million-row load (random inserts into four B-trees:
# 49 s against 36 s on SQLite). It then looks up only the records it did not write itself — a
# few id ranges, read without an index in milliseconds — and knows its own from memory
# (`Matcher.lookups_without_index`).
LOOKUP_SCAN_ROWS = 50_000


class IndexPlan:
    """Whether this run sets the table's secondary indexes aside, decided at its first batch.

    Decided on what the batch really does (a re-import that only updates or leaves rows
    unchanged keeps its indexes) and on the size of the table (a 100,000-row file into a
    million organisations is cheaper to maintain row by row than to rebuild after).
    """

    def __init__(
        self, entity: ImportableEntity, remaining: int, *, links_to_itself: bool = False
    ) -> None:
        self.entity = entity
        self.remaining = remaining
        self.links_to_itself = links_to_itself  # rows find other rows of the file by key
        self.decided = False
        self.suspended: list[str] = []
        # Set when the lookup indexes went too: the largest id before the run wrote any.
        self.lookups_before: int | None = None

    def before_writing(self, *, creates: int, rows: int) -> None:
        if self.decided:
            return
        self.decided = True
        threshold = int(
            getattr(settings, "IMPORT_REBUILD_INDEXES_FROM", DEFAULT_REBUILD_INDEXES_FROM)
        )
        model = self.entity.model
        existing = model._default_manager.count()
        if (
            threshold > 0
            and self.remaining >= threshold
            and creates * 2 >= rows
            and self.remaining >= existing
        ):
            keep = self.entity.lookup_indexes
            if existing <= LOOKUP_SCAN_ROWS and not self.links_to_itself:
                keep = ()
                self.lookups_before = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
            self.suspended = suspend_indexes(model, keep=keep)

    def restore(self, timings: dict[str, float]) -> None:
        began = time.perf_counter()
        if restore_indexes(self.entity.model):
            timings["indexes"] += time.perf_counter() - began


class WrittenRecords:
    """The records a run created or updated, announced when it ends
    (`people.hooks.records_bulk_written`), so that segments and fit scores follow: their ids up to
    `limit`, then only "many" (None), which listeners take as "recompute everything" — memory
    stays flat at a million rows."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.ids: set[int] | None = set()
        self.any = False

    def add(self, ids: Iterable[int]) -> None:
        if self.ids is None:
            return
        self.ids.update(ids)
        self.any = self.any or bool(self.ids)
        if len(self.ids) > self.limit:
            self.ids = None

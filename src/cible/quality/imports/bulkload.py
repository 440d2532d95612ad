"""Very large runs set the table's secondary indexes and foreign keys aside and build or
validate them once at the end.

See `core.indexes` and `core.foreign_keys` for why and how it stays safe (a kill leaves the
list of what to put back). The keys: PostgreSQL checks each new row's owner at commit, 3 s a
million rows on the path of every batch, against 0.3 s per key to validate the whole table once.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable

from django.conf import settings

from cible.core.foreign_keys import restore_foreign_keys, suspend_foreign_keys
from cible.core.indexes import restore_indexes, suspend_indexes
from cible.quality.imports.lookups import EXTERNAL_ID, key_column, links_of
from cible.quality.imports.registry import ImportableEntity

# A run with at least this many rows still to load, that mostly creates records and would at
# least double the table, builds the table's secondary indexes once at the end — all but the
# lookup indexes it reads through: keeping those of the entity's other match keys too (SIRET,
# domain, name when matching by SIREN) made a million-row load take 49 s instead of 39 s on
# SQLite (random inserts into three more B-trees it never reads).
DEFAULT_REBUILD_INDEXES_FROM = 100_000


class IndexPlan:
    """Whether this run sets the table's secondary indexes (and, on PostgreSQL, its foreign
    keys) aside, decided at its first batch.

    Decided on what the batch really does (a re-import that only updates or leaves rows
    unchanged keeps its indexes) and on the size of the table (a 100,000-row file into a
    million organisations is cheaper to maintain row by row than to rebuild after).
    """

    def __init__(
        self, entity: ImportableEntity, remaining: int, *, reads: Collection[str] = ()
    ) -> None:
        self.entity = entity
        self.remaining = remaining
        # The lookup indexes it keeps: all but those of the entity's other match keys and links
        # to its own table, which this run never reads by (`Matcher.reads`).
        unread = {key_column(entity, key) for key in entity.keys if key.name != EXTERNAL_ID} | {
            link.lookup for link in links_of(entity) if link.target is entity.model
        }
        unread -= set(reads)
        self.keep = tuple(
            index.name
            for index in entity.model._meta.indexes
            if index.name in entity.lookup_indexes
            and not (index.fields and index.fields[0] in unread)
        )
        self.decided = False
        self.suspended: list[str] = []

    def before_writing(self, *, creates: int, rows: int) -> None:
        if self.decided:
            return
        self.decided = True
        threshold = int(
            getattr(settings, "IMPORT_REBUILD_INDEXES_FROM", DEFAULT_REBUILD_INDEXES_FROM)
        )
        model = self.entity.model
        if (
            threshold > 0
            and self.remaining >= threshold
            and creates * 2 >= rows
            and self.remaining >= model._default_manager.count()
        ):
            self.suspended = suspend_indexes(model, keep=self.keep)
            suspend_foreign_keys(model)  # PostgreSQL only

    def restore(self, timings: dict[str, float]) -> None:
        """Validate the keys (one pass each, no index needed), then build the indexes."""
        began = time.perf_counter()
        model = self.entity.model
        if restore_foreign_keys(model) + restore_indexes(model):
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

"""How long uploaded files are kept (VAR_DIR/imports): `IMPORT_FILE_RETENTION_DAYS`.

An uploaded file is needed while its import can still run: the dry run, the import, and its
resumption after a crash read it again. Once an import has been left alone for the retention
period (finished, failed, cancelled or abandoned before it started: nothing has touched it for
that many days), its file is deleted; the run stays, with its counts, rejected rows and audit
entries, as the record of what was imported, and says that its file is no longer kept if someone
tries to run it again. Files of the imports directory that no run refers to (an upload cut short)
go after the same period. 0 keeps every file. A person's erasure deletes the files of their
imports at once (`erasure.py`). Run every night by `tasks.purge_import_files`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from cible.quality.imports.models import ImportRun

DEFAULT_RETENTION_DAYS = 30

logger = logging.getLogger(__name__)


def retention_days() -> int:
    return int(getattr(settings, "IMPORT_FILE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge_stored_files(*, now: datetime | None = None) -> int:
    """Delete the stored files of imports untouched for the retention period (and of no
    import at all); returns how many files were deleted."""
    days = retention_days()
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    directory = Path(settings.VAR_DIR) / "imports"
    runs = (
        ImportRun.objects.exclude(stored_path="")
        .alias(last_touched=Coalesce("finished_at", "heartbeat_at", "started_at", "created_at"))
        .filter(last_touched__lt=cutoff)
        .exclude(heartbeat_at__gte=cutoff)  # a run still reporting, whatever its dates
    )
    deleted = 0
    for pk, stored in runs.values_list("pk", "stored_path"):
        path = Path(settings.VAR_DIR) / stored
        if path.is_file():
            path.unlink(missing_ok=True)
            deleted += 1
        ImportRun.objects.filter(pk=pk, stored_path=stored).update(stored_path="")
    if directory.is_dir():
        kept = {
            (Path(settings.VAR_DIR) / stored).resolve()
            for stored in ImportRun.objects.exclude(stored_path="").values_list(
                "stored_path", flat=True
            )
        }
        limit = cutoff.timestamp()
        for path in directory.iterdir():
            if path.is_file() and path.resolve() not in kept and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                deleted += 1
    if deleted:
        logger.info("Deleted %s stored import files older than %s days", deleted, days)
    return deleted

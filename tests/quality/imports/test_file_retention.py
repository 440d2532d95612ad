"""Uploaded files are kept while their import may need them, and deleted once it has been left
alone for IMPORT_FILE_RETENTION_DAYS; the import stays, and says why it cannot run again."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from cible.quality.imports import services
from cible.quality.imports.models import ImportRun
from cible.quality.imports.retention import purge_stored_files
from tests.quality.imports.engine_support import imported, upload, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db

ROWS = [["Raison sociale", "SIREN", "Ville"], ["Boulangerie Martin", "356000000", "Paris"]]
MAPPING = {"Raison sociale": "legal_name", "SIREN": "siren", "Ville": "city"}


def aged(run: ImportRun, days: int, **fields: Any) -> ImportRun:
    then = timezone.now() - timedelta(days=days)
    values = {"created_at": then, "heartbeat_at": then, **fields}
    if run.finished_at or run.status == ImportRun.Status.DONE:
        values.setdefault("finished_at", then)
    if run.started_at:
        values["started_at"] = then
    ImportRun.objects.filter(pk=run.pk).update(**values)
    return ImportRun.objects.get(pk=run.pk)


def test_files_of_imports_left_alone_are_deleted_after_the_retention_period(
    cast: Any, settings: Any
) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old_done = aged(imported(cast.ae, ROWS, key="siren", mapping=MAPPING), 31)
    recent_done = aged(imported(cast.ae, ROWS, key="siren", mapping=MAPPING), 5)
    abandoned = aged(upload(cast.ae, ROWS), 45)
    running = aged(
        upload(cast.ae, ROWS), 60, status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    stray = Path(settings.VAR_DIR) / "imports" / "left-over.csv"
    stray.write_text("a;b\r\n")
    old = (timezone.now() - timedelta(days=40)).timestamp()
    os.utime(stray, (old, old))
    files = {run.pk: run.stored_file for run in (old_done, recent_done, abandoned, running)}

    assert purge_stored_files() == 3

    kept = {pk for pk, path in files.items() if path.exists()}
    assert kept == {recent_done.pk, running.pk}
    assert not stray.exists()
    assert ImportRun.objects.count() == 4
    assert ImportRun.objects.get(pk=old_done.pk).counts["created"] == 1
    assert ImportRun.objects.get(pk=old_done.pk).stored_path == ""

    services.configure(abandoned, actor=cast.ae, mapping=MAPPING, key="siren", policy="fill_empty")
    checked = services.check(ImportRun.objects.get(pk=abandoned.pk), actor=cast.ae)
    assert checked.status == ImportRun.Status.FAILED
    assert checked.error_message.startswith("The uploaded file of this import is no longer kept")


def test_zero_keeps_every_file(cast: Any, settings: Any) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 0
    run = aged(imported(cast.ae, ROWS, key="siren", mapping=MAPPING), 400)
    assert purge_stored_files() == 0
    assert run.stored_file.is_file()

"""Huey tasks of the import framework, thin over the pipeline's workers: the services enqueue
them, and the work goes on after the web request that asked for it has ended (`cible serve`
runs a consumer beside the web server)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.quality.imports import pipeline, retention


@db_task(retries=0)
def check_run(run_id: int, actor_id: int | None) -> None:
    """The dry run of an import (status CHECKING → CHECKED)."""
    pipeline.run_check(run_id, actor_id=actor_id)


@db_task(retries=0)
def import_run(run_id: int, actor_id: int | None) -> None:
    """The import itself, or its resumption (status RUNNING → DONE, FAILED or CANCELLED)."""
    pipeline.run_import(run_id, actor_id=actor_id)


@db_periodic_task(crontab(hour="4", minute="10"))
def purge_import_files() -> None:
    """Every night at 04:10 (server time): uploaded files kept past IMPORT_FILE_RETENTION_DAYS."""
    retention.purge_stored_files()

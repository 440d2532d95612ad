"""Background work of the privacy app (Huey): retention runs, queued and nightly."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.quality.privacy import retention


@db_task()
def retention_run_task(request_id: int) -> None:
    """A retention run queued from the UI, the API or the command line."""
    retention.retention_execute(request_id=request_id)


@db_periodic_task(crontab(hour="3", minute="30"))
def retention_nightly() -> None:
    """Every active retention rule, every night at 03:30 (server time)."""
    retention.retention_run_active(channel="job")

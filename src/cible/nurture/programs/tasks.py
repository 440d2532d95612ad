"""The incubator's clock: every minute the worker (`cible worker`) runs the due steps."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from cible.nurture.programs import services


@db_periodic_task(crontab(minute="*"))
@lock_task("nurture-advance")
def advance_nurture() -> None:
    """One advance at a time: a slow minute must not start a second, overlapping run."""
    services.advance_due()

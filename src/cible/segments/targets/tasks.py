"""Background jobs of targets: pruning the organisation change log (`changelog.prune`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cible.segments.targets import changelog


@db_periodic_task(crontab(minute="*/10"))
def prune_organisation_changes() -> None:
    """Every ten minutes: the log rows older than the previous run go (readers that looked
    since then lose nothing; one that did not reads its columns whole again)."""
    changelog.prune()

"""Background work of the freshness app (Huey; run the consumer with `cible worker`).

- every night: the staleness sweep (every figure recomputed under the new day, since records go
  stale as days pass) and then the day's snapshot for the trends;
- on demand: a recomputation of the figures, which the dashboard asks for when it finds them
  too far behind to catch up within the page request.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.quality.freshness import services, tally


@db_periodic_task(crontab(hour="0", minute="10"))
def nightly_sweep_and_snapshot() -> None:
    """The sweep first, so that the snapshot freezes figures of the new day."""
    services.staleness_sweep()
    services.snapshot_take()


@db_task()
def refresh_figures() -> None:
    services.tally_refresh_now()


@db_task()
def take_snapshot() -> None:
    services.snapshot_take()


def request_figures_refresh() -> None:
    """Queue a recomputation of the figures, unless one was queued in the last minutes."""
    if tally.mark_refresh_requested():
        refresh_figures()

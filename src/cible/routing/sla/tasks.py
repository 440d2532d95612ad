"""The sweep, every minute, in the worker (`cible worker`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cible.routing.sla import services


@db_periodic_task(crontab(minute="*"))
def sla_sweep() -> None:
    services.sweep()

"""Background work of routing (Huey; run the consumer with `cible worker`): every five minutes,
route the leads at a trigger stage that routing has not seen since they entered it."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cible.routing.assignment import services


@db_periodic_task(crontab(minute="*/5"))
def route_pending_leads() -> None:
    services.route_pending()

"""Leads reaching a trigger stage are routed as soon as their move commits (connected once, in
apps.py). A failure here never undoes the move that caused it: the lead waits for the sweep
(`services.route_pending`, every few minutes) instead of being lost."""

from __future__ import annotations

import logging
from typing import Any

from cible.core.audit import Channel
from cible.routing.assignment import services
from cible.routing.assignment.models import RoutingSettings

logger = logging.getLogger(__name__)


def on_leads_moved(sender: Any, moves: list[Any], **kwargs: Any) -> None:
    settings = RoutingSettings.current()
    triggers = set(settings.trigger_stages or ())
    lead_ids = [
        m.lead_id
        for m in moves
        if m.to_stage in triggers or (settings.on_arrival and m.from_stage == "")
    ]
    if not lead_ids:
        return
    try:
        services.route(lead_ids=lead_ids, actor=None, channel=Channel.JOB)
    except Exception:  # the move stands; the sweep routes these leads later
        logger.exception("routing of %s leads failed; the sweep will retry", len(lead_ids))


def connect() -> None:
    from cible.lifecycle.leads.signals import leads_moved

    leads_moved.connect(on_leads_moved, dispatch_uid="routing-leads-moved")

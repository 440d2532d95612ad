"""Service levels for the demo: the four handoffs' policies on the Paris office calendar, and the
clocks the demo's history implies, replayed through the same set-based code as live signals —
assignments start clocks, the owners' touches meet them, one sweep finds what breached — so the
queues, the compliance report and the escalations are alive on `make demo`.

Called by the demo generator after routing has written its assignments (cible.demo).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F

from cible.engagement.interactions.models import Interaction
from cible.routing.assignment.models import Assignment
from cible.routing.sla import clocks, receivers, services
from cible.routing.sla.models import BusinessCalendar, ClockStatus, Handoff, SlaClock, SlaPolicy

BATCH = 5_000
HISTORY = dt.timedelta(days=2)

# (handoff, name, minutes, business hours, reassign after) — seed 004 §4's three handoffs and
# seed 003's AE follow-up, at delays a B2B team in Paris would sign.
DEFAULTS = (
    (Handoff.MQL_ACCEPTANCE, "Accept or reject an MQL within 4 business hours", 240, True, None),
    (Handoff.FIRST_TOUCH, "First touch within 2 business hours", 120, True, 240),
    (Handoff.MEETING_FOLLOW_UP, "Follow up a held meeting within 24 hours", 24 * 60, False, None),
    (
        Handoff.RECYCLE_REVIEW,
        "Marketing reviews a recycled lead within 2 days",
        16 * 60,
        True,
        None,
    ),
)


def default_policies() -> list[SlaPolicy]:
    """The four policies, created once (an existing active general policy is kept)."""
    calendar, _created = BusinessCalendar.objects.get_or_create(name="France — Paris office")
    made = []
    for handoff, name, minutes, business, escalate in DEFAULTS:
        policy, _created = SlaPolicy.objects.get_or_create(
            handoff=handoff,
            team=None,
            active=True,
            defaults={
                "name": name,
                "target_minutes": minutes,
                "business_hours": business,
                "calendar": calendar if business else None,
                "escalate_after_minutes": escalate,
            },
        )
        made.append(policy)
    return made


def replay(*, now: dt.datetime) -> dict[str, Any]:
    """Clocks for the demo's assignments and touches up to `now`, then one sweep for the last two
    days (older breaches are recorded as told at their due time, and are not reassigned)."""
    default_policies()
    started = 0
    pks = list(
        Assignment.objects.filter(user__isnull=False, assigned_at__lte=now)
        .order_by("assigned_at", "pk")
        .values_list("pk", flat=True)
    )
    for at in range(0, len(pks), BATCH):
        rows = list(Assignment.objects.filter(pk__in=pks[at : at + BATCH]).order_by("assigned_at"))
        with transaction.atomic():
            receivers.on_leads_assigned(sender=Assignment, assignments=rows)
        started += len(rows)
    first = SlaClock.objects.order_by("started_at").values_list("started_at", flat=True).first()
    met = 0
    if first is not None:
        touches = (
            Interaction.objects.filter(
                kind__in=receivers.TOUCHES,
                owner__isnull=False,
                contact__isnull=False,
                occurred_at__gte=first,
                occurred_at__lte=now,
            )
            .order_by("occurred_at")
            .values_list("contact_id", "owner_id", "occurred_at")
        )
        batch: list[clocks.Touch] = []
        for contact_id, owner_id, occurred_at in touches.iterator(chunk_size=BATCH):
            batch.append(clocks.Touch(contact_id, owner_id, occurred_at))
            if len(batch) == BATCH:
                met += clocks.clocks_touch(touches=batch)
                batch = []
        met += clocks.clocks_touch(touches=batch)
    # History is history: what breached before the last two days was told and escalated then.
    past = now - HISTORY
    SlaClock.objects.filter(status=ClockStatus.OPEN, due_at__lt=past).update(
        status=ClockStatus.BREACHED, breached_at=F("due_at"), escalated_at=F("due_at")
    )
    SlaClock.objects.filter(
        status=ClockStatus.BREACHED, escalated_at__isnull=True, due_at__lt=past
    ).update(escalated_at=F("due_at"))
    SlaClock.objects.filter(escalate_at__lt=past).update(escalate_at=None)
    report = services.sweep(now=now)
    return {"assignments": started, "met": met, "breached": report.breached}

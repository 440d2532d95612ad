"""Writes of the service levels: policies and calendars, the review a marketer marks done, and the
sweep that finds breaches and escalates them (SPEC C6, seed 004 §4).

The sweep runs every minute (tasks.py) and may run twice at once: each step claims its rows with
one conditional `UPDATE … RETURNING`, so a breach is found, told and escalated exactly once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import access
from cible.core.audit import audit_context
from cible.core.calendars import CalendarInvalid
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.engagement.tasks.notifications import notify
from cible.lifecycle.leads.models import Lead
from cible.people.models import Team
from cible.routing.sla.clocks import clocks_meet_leads
from cible.routing.sla.models import BusinessCalendar, Handoff, SlaClock, SlaPolicy

logger = logging.getLogger(__name__)

# Past this many breaches for one person in one sweep, they get one digest instead of one
# notification (and email) per lead: a backlog found at once must not flood a mailbox.
DIGEST_OVER = 10
# Reassignments per sweep: each is a routing decision; the rest wait a minute.
REASSIGN_BATCH = 500

EDITOR_ROLES = (Role.ADMIN, Role.SALES_MANAGER)


@dataclass(frozen=True)
class SweepReport:
    breached: int
    notified: int
    reassigned: int


def _may_edit(actor: Any) -> None:
    if access.role_of(actor) not in EDITOR_ROLES:
        raise PermissionDenied(
            _("Only administrators and sales managers may change service levels.")
        )


# --- calendars and policies ------------------------------------------------------------------

CALENDAR_FIELDS = (
    "name",
    "time_zone",
    "working_days",
    "opening_hours",
    "holidays_country",
    "holidays_subdivision",
)
POLICY_FIELDS = (
    "name",
    "handoff",
    "target_minutes",
    "business_hours",
    "calendar",
    "escalate_after_minutes",
    "notify_manager",
    "notify_owner",
    "team",
    "active",
)


_CALENDAR_PARTS = {
    "hours": "opening_hours",
    "country": "holidays_country",
    "subdivision": "holidays_subdivision",
}


def _too_long(record: Any, names: tuple[str, ...]) -> list[FieldError]:
    """Text longer than its column: refused here, not by the database (PostgreSQL would fail)."""
    errors = []
    for name in names:
        field = record._meta.get_field(name)
        value = getattr(record, field.attname)
        if isinstance(value, str) and field.max_length and len(value) > field.max_length:
            message = _("at most %(count)d characters") % {"count": field.max_length}
            errors.append(FieldError(name, message))
    return errors


NULLABLE_POLICY_FIELDS = ("calendar", "escalate_after_minutes", "team")


def _check_calendar(calendar: BusinessCalendar) -> None:
    errors = []
    if not calendar.name.strip():
        errors.append(FieldError("name", _("give the calendar a name")))
    elif BusinessCalendar.objects.filter(name=calendar.name).exclude(pk=calendar.pk).exists():
        errors.append(FieldError("name", _("another calendar has this name")))
    errors += _too_long(calendar, CALENDAR_FIELDS)
    if not errors:
        try:
            calendar.as_calendar()
        except CalendarInvalid as exc:
            errors.append(FieldError(_CALENDAR_PARTS.get(exc.part, exc.part), str(exc)))
    if errors:
        raise ValidationFailed(errors=errors)


@transaction.atomic
def calendar_save(
    *, actor: Any, channel: str, calendar: BusinessCalendar | None = None, **fields: Any
) -> BusinessCalendar:
    """Create a business calendar, or change `calendar`; the opening hours must parse."""
    _may_edit(actor)
    calendar = calendar or BusinessCalendar()
    for name, value in fields.items():
        if name not in CALENDAR_FIELDS:
            raise ValidationFailed(errors=[FieldError(name, _("unknown field"))])
        if name == "holidays_country" and isinstance(value, str):
            value = value.upper()
        if value is None:
            if name not in ("holidays_country", "holidays_subdivision"):
                raise ValidationFailed(errors=[FieldError(name, _("this field is required"))])
            value = ""
        setattr(calendar, name, value.strip() if isinstance(value, str) else value)
    _check_calendar(calendar)
    with audit_context(actor=actor, channel=channel):
        calendar.save()
    return calendar


def _check_policy(policy: SlaPolicy) -> None:
    errors = _too_long(policy, ("name", "handoff"))
    if not policy.name.strip():
        errors.append(FieldError("name", _("give the policy a name")))
    if policy.handoff not in Handoff.values:
        errors.append(FieldError("handoff", _("choose a handoff")))
    if not policy.target_minutes or policy.target_minutes < 1:
        errors.append(FieldError("target_minutes", _("the target must be at least one minute")))
    elif policy.target_minutes > 60 * 24 * 90:
        errors.append(FieldError("target_minutes", _("the target must be at most 90 days")))
    if (
        policy.escalate_after_minutes is not None
        and not 1 <= policy.escalate_after_minutes <= 60 * 24 * 90
    ):
        errors.append(FieldError("escalate_after_minutes", _("between one minute and 90 days")))
    if policy.business_hours and policy.calendar_id is None:
        errors.append(FieldError("calendar", _("business hours need a calendar")))
    if policy.active:
        clash = SlaPolicy.objects.filter(handoff=policy.handoff, active=True)
        if policy.team_id is None:
            clash = clash.filter(team__isnull=True)
        else:
            clash = clash.filter(team_id=policy.team_id)
        if clash.exclude(pk=policy.pk).exists():
            errors.append(
                FieldError(
                    "active",
                    _(
                        "another active policy already covers this handoff for this team; "
                        "deactivate it first"
                    ),
                )
            )
    if errors:
        raise ValidationFailed(errors=errors)


def _reference(name: str, pk: int) -> Any:
    """A calendar or team named by its id (API), or a 422 naming the field."""
    model = BusinessCalendar if name == "calendar" else Team
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationFailed(
            errors=[FieldError(name, _("no %(name)s with id %(id)s") % {"name": name, "id": pk})]
        )
    return found


@transaction.atomic
def policy_save(
    *, actor: Any, channel: str, policy: SlaPolicy | None = None, **fields: Any
) -> SlaPolicy:
    """Create a policy, or change `policy`. A change applies to clocks started from now on."""
    _may_edit(actor)
    policy = policy or SlaPolicy()
    for name, value in fields.items():
        if name not in POLICY_FIELDS:
            raise ValidationFailed(errors=[FieldError(name, _("unknown field"))])
        if name in ("calendar", "team") and isinstance(value, int):
            value = _reference(name, value)
        if value is None and name not in NULLABLE_POLICY_FIELDS:
            raise ValidationFailed(errors=[FieldError(name, _("this field is required"))])
        setattr(policy, name, value.strip() if isinstance(value, str) else value)
    _check_policy(policy)
    with audit_context(actor=actor, channel=channel):
        policy.save()
    return policy


def review_done(*, lead: Lead, actor: Any, channel: str) -> int:
    """Marketing has reviewed a lead Sales recycled (seed 004 §4: Sales → Marketing)."""
    if access.role_of(actor) not in (Role.MARKETING, Role.ADMIN):
        raise PermissionDenied(_("Only Marketing reviews recycled leads."))
    if not access.can(actor, "view", lead):
        raise PermissionDenied(_("You may not see this lead."))
    return clocks_meet_leads(handoff=Handoff.RECYCLE_REVIEW, lead_ids=[lead.pk], at=timezone.now())


# --- the sweep ------------------------------------------------------------------------------


def _claim(set_sql: str, where_sql: str, params: list[Any], columns: str) -> list[tuple[Any, ...]]:
    """One conditional UPDATE … RETURNING on the clocks: the rows this call, and only it, changed.

    Statuses are written as literals, not parameters: SQLite uses a partial index only when the
    query repeats its condition word for word (ClockStatus values are fixed identifiers)."""
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    sql = f"UPDATE {table} SET {set_sql} WHERE {where_sql} RETURNING {columns}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _stamp(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Find breaches, tell who must know, reassign what stayed untouched past the second delay."""
    now = now or timezone.now()
    stamp = _stamp(now)
    with transaction.atomic():
        # One write breaches the clocks and claims the telling: what this sweep found is its
        # own to tell; a crash before commit leaves them open for the next sweep.
        found = _claim(
            "status = 'breached', breached_at = %s, escalated_at = %s",
            "status = 'open' AND due_at < %s",
            [stamp, stamp, stamp],
            TOLD_COLUMNS,
        )
        notified = _tell(found, now)
    with transaction.atomic():
        # Clocks that breached otherwise (an action logged after its due time), not told yet.
        late = _claim(
            "escalated_at = %s",
            "status = 'breached' AND escalated_at IS NULL",
            [stamp],
            TOLD_COLUMNS,
        )
        notified += _tell(late, now)
    reassigned = _reassign_late(now)
    return SweepReport(breached=len(found), notified=notified, reassigned=reassigned)


TOLD_COLUMNS = "id, lead_id, policy_id, owner_id, team_id"


def _tell(rows: list[tuple[Any, ...]], now: datetime) -> int:
    """Notify (in the app and by email) the manager — and the owner if the policy says so — of
    each breach in `rows`; the notification key keeps anyone from hearing twice."""
    if not rows:
        return 0
    policies = SlaPolicy.objects.in_bulk({row[2] for row in rows})
    managers = dict(
        Team.objects.filter(pk__in={row[4] for row in rows}).values_list("pk", "manager_id")
    )
    told: dict[int, list[tuple[int, int]]] = defaultdict(list)  # user → [(clock, lead)]
    for pk, lead_id, policy_id, owner_id, team_id in rows:
        policy = policies[policy_id]
        recipients = set()
        if policy.notify_manager and managers.get(team_id):
            recipients.add(managers[team_id])
        if policy.notify_owner and owner_id:
            recipients.add(owner_id)
        for user_id in recipients:
            told[user_id].append((pk, lead_id))
    return _notify(told, policies, now)


def _notify(
    told: dict[int, list[tuple[int, int]]], policies: dict[int, SlaPolicy], now: datetime
) -> int:
    single = {pk for items in told.values() if len(items) <= DIGEST_OVER for pk, _lead in items}
    clocks = SlaClock.objects.filter(pk__in=single).select_related(
        "policy", "lead__contact", "owner"
    )
    by_pk = {clock.pk: clock for clock in clocks}
    count = 0
    for user_id, items in told.items():
        if len(items) > DIGEST_OVER:
            count += notify(
                users=[user_id],
                title=format_lazy(
                    gettext_lazy("{count} service levels breached"), count=len(items)
                ),
                body=gettext_lazy(
                    "Leads waited past their service level. Open the queue to act on them."
                ),
                url=reverse("sla:queue") + "?scope=team",
                email=True,
                key=f"sla-breach-digest:{now.isoformat()}:{items[0][0]}",
            )
            continue
        for pk, lead_id in items:
            clock = by_pk[pk]
            owner = clock.owner.get_full_name() if clock.owner else gettext_lazy("nobody")
            count += notify(
                users=[user_id],
                title=format_lazy(gettext_lazy("SLA breached: {lead}"), lead=str(clock.lead)),
                body=format_lazy(
                    gettext_lazy("{policy}: due {due} (owner: {owner})."),
                    policy=clock.policy.name,
                    due=timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M"),
                    owner=owner,
                ),
                url=reverse("leads:detail", args=[lead_id]),
                email=True,
                key=f"sla-breach:{pk}",
            )
    return count


def _reassign_late(now: datetime) -> int:
    """Reassign leads still untouched past the policy's second delay — once per clock.

    Each clock is claimed in the very transaction that reassigns its lead: a crash or an error in
    between rolls the claim back with the reassignment, so the next sweep finds the clock again
    (a claim committed alone would read as "no one available" and never be retried). A sweep
    running at the same time waits on the claimed row, then finds it taken."""
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE status = 'breached' AND reassigned_at IS NULL "
            "AND met_at IS NULL AND escalate_at < %s ORDER BY escalate_at LIMIT %s",
            [_stamp(now), REASSIGN_BATCH],
        )
        late = [row[0] for row in cursor.fetchall()]
    done = 0
    for pk in late:
        try:
            done += _reassign_clock(pk, now)
        except Exception:  # one refused routing decision must not stop the sweep of other leads
            logger.exception("SLA escalation: reassigning clock %s failed; next sweep retries", pk)
    return done


@transaction.atomic
def _reassign_clock(pk: int, now: datetime) -> int:
    """Claim clock `pk` and reassign its lead (1), or record that nobody could take it (0)."""
    from cible.routing.assignment.services import reassign

    rows = _claim(
        "reassigned_at = %s",
        "id = %s AND status = 'breached' AND reassigned_at IS NULL AND met_at IS NULL",
        [_stamp(now), pk],
        "lead_id, owner_id",
    )
    if not rows:
        return 0  # another sweep took it, or the lead was touched meanwhile
    lead_id, owner_id = rows[0]
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or lead.owner_id != owner_id or not lead.is_live:
        return 0  # someone already moved or reassigned it
    policy = SlaPolicy.objects.only("name").get(clocks=pk)
    reason = _("%(policy)s breached and still untouched: reassigned.") % {"policy": policy.name}
    assignment = reassign(lead=lead, actor=None, channel="job", reason=reason)
    if assignment is None or assignment.user_id is None:
        return 0  # truly no one else in the team: the lead page says so
    SlaClock.objects.filter(pk=pk).update(reassigned_to_id=assignment.user_id)
    return 1

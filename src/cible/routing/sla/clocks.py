"""Clocks start, stop and are cancelled by what happens to leads (set-based: the signals that
drive them carry lists, sometimes of thousands of rows).

- an assignment starts the first-touch clock, and the acceptance clock when the lead is an MQL;
- a move out of MQL (accepted or rejected) stops acceptance; Recycled by Sales starts Marketing's
  recycle review, which any later move stops; Disqualified or Customer cancels every clock;
- a call, an email sent or a meeting on the lead's contact by its owner meets first touch and a
  pending meeting follow-up; a held meeting starts the follow-up.

A stopped clock is "met" when the action came by its due time, "breached" otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from cible.core.calendars import Calendar, add_time
from cible.lifecycle.leads.models import Lead
from cible.people.models import UserProfile
from cible.routing.sla.models import ClockStatus, Handoff, SlaClock, SlaPolicy

OPEN = ClockStatus.OPEN


@dataclass(frozen=True)
class ClockStart:
    lead_id: int
    owner_id: int | None
    team_id: int | None
    started_at: datetime


@dataclass(frozen=True)
class Touch:
    """A call, an email sent or a meeting by `owner_id` with `contact_id` at `at`."""

    contact_id: int
    owner_id: int
    at: datetime


def _policies(handoff: str) -> dict[int | None, SlaPolicy]:
    found = SlaPolicy.objects.filter(handoff=handoff, active=True).select_related("calendar")
    return {policy.team_id: policy for policy in found}


def policy_for(policies: dict[int | None, SlaPolicy], team_id: int | None) -> SlaPolicy | None:
    """A team's own policy wins over the general one."""
    return policies.get(team_id) if team_id in policies else policies.get(None)


def due_times(
    policy: SlaPolicy, start: datetime, cache: dict[int, Calendar]
) -> tuple[datetime, datetime | None]:
    """(due_at, escalate_at) of a clock of `policy` started at `start`."""
    calendar = None
    if policy.business_hours and policy.calendar is not None:
        calendar = cache.get(policy.pk)
        if calendar is None:
            calendar = cache[policy.pk] = policy.calendar.as_calendar()
    due = add_time(calendar, start, policy.target, business=policy.business_hours)
    escalate = None
    if policy.escalate_after_minutes:
        extra = timedelta(minutes=policy.escalate_after_minutes)
        escalate = add_time(calendar, due, extra, business=policy.business_hours)
    return due, escalate


def first_team_of(user_ids: Iterable[int | None]) -> dict[int, int]:
    """Each user's team (the first by id): the team whose manager hears of their breaches."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    rows = UserProfile.teams.through.objects.filter(userprofile__user_id__in=ids).values_list(
        "userprofile__user_id", "team_id"
    )
    teams: dict[int, int] = {}
    for user_id, team_id in rows.order_by("team_id"):
        teams.setdefault(user_id, team_id)
    return teams


@transaction.atomic
def clocks_start(*, handoff: str, starts: Sequence[ClockStart]) -> int:
    """Start a clock of the active policy for each start; a running one for the same policy and
    lead is replaced (cancelled) — a reassigned lead gives its new owner the full delay."""
    policies = _policies(handoff)
    if not policies or not starts:
        return 0
    cache: dict[int, Calendar] = {}
    rows: dict[int, SlaClock] = {}  # by lead: of two starts for one lead, the later wins
    for start in sorted(starts, key=lambda s: s.started_at):
        policy = policy_for(policies, start.team_id)
        if policy is None:
            continue
        due, escalate = due_times(policy, start.started_at, cache)
        rows[start.lead_id] = SlaClock(
            policy=policy,
            lead_id=start.lead_id,
            owner_id=start.owner_id,
            team_id=start.team_id,
            started_at=start.started_at,
            due_at=due,
            escalate_at=escalate,
        )
    if not rows:
        return 0
    SlaClock.objects.filter(
        status=OPEN,
        policy__in=[p.pk for p in policies.values()],
        lead_id__in=list(rows),
    ).update(status=ClockStatus.CANCELLED)
    # A concurrent start of the same clock loses quietly (one open clock per policy and lead).
    SlaClock.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _stop(clocks: Q, at: datetime | F) -> int:
    """Stop running clocks: met by `at` if on time, else breached; late ones keep their time."""
    running = SlaClock.objects.filter(clocks, status=OPEN).update(
        met_at=at,
        status=Case(
            When(due_at__gte=at, then=Value(ClockStatus.MET)), default=Value(ClockStatus.BREACHED)
        ),
        breached_at=Case(When(due_at__lt=at, then=F("due_at")), default=Value(None)),
    )
    # A clock the sweep already found breached still records when the action came (response
    # times), and turns "met" if the action was logged late but happened in time.
    SlaClock.objects.filter(clocks, status=ClockStatus.BREACHED, met_at__isnull=True).update(
        met_at=at,
        status=Case(
            When(due_at__gte=at, then=Value(ClockStatus.MET)), default=Value(ClockStatus.BREACHED)
        ),
    )
    return running


def clocks_meet_leads(*, handoff: str, lead_ids: Iterable[int], at: datetime) -> int:
    """The action the clock waits for was done on these leads at `at` (accepted, reviewed)."""
    ids = list(set(lead_ids))
    if not ids:
        return 0
    return _stop(Q(policy__handoff=handoff, lead_id__in=ids), at)


def clocks_cancel(*, lead_ids: Iterable[int], handoffs: Sequence[str] = ()) -> int:
    """Nothing is owed on these leads any more (all handoffs, or those named)."""
    ids = list(set(lead_ids))
    if not ids:
        return 0
    running = SlaClock.objects.filter(status=OPEN, lead_id__in=ids)
    if handoffs:
        running = running.filter(policy__handoff__in=handoffs)
    return running.update(status=ClockStatus.CANCELLED)


def clocks_touch(*, touches: Sequence[Touch]) -> int:
    """Meet first-touch and meeting follow-up clocks with the owner's touches; return how many."""
    if not touches:
        return 0
    by_contact: dict[int, list[Touch]] = {}
    for touch in touches:
        by_contact.setdefault(touch.contact_id, []).append(touch)
    pending = SlaClock.objects.filter(
        Q(status=OPEN) | Q(status=ClockStatus.BREACHED, met_at__isnull=True),
        policy__handoff__in=[Handoff.FIRST_TOUCH, Handoff.MEETING_FOLLOW_UP],
        lead__contact_id__in=list(by_contact),
    ).values_list("pk", "lead__contact_id", "owner_id", "started_at", "policy__handoff")
    met: dict[datetime, list[int]] = {}
    for pk, contact_id, owner_id, started_at, handoff in pending:
        # A follow-up is met by a touch after the meeting, not by the meeting that started it.
        strict = handoff == Handoff.MEETING_FOLLOW_UP
        times = [
            t.at
            for t in by_contact[contact_id]
            if (owner_id is None or t.owner_id == owner_id)
            and (t.at > started_at if strict else t.at >= started_at)
        ]
        if times:
            met.setdefault(min(times), []).append(pk)
    total = 0
    with transaction.atomic():
        for at, pks in met.items():
            total += _stop(Q(pk__in=pks), at)
    return total


def follow_ups_start(*, meetings: Sequence[Touch]) -> int:
    """A held meeting starts the follow-up clock of the contact's live lead."""
    if not meetings:
        return 0
    held = {m.contact_id: m for m in sorted(meetings, key=lambda m: m.at)}
    leads = Lead.objects.filter(contact_id__in=list(held)).exclude(
        stage__in=["customer", "disqualified"]
    )
    rows = list(leads.values_list("pk", "contact_id", "owner_id"))
    teams = first_team_of(owner or held[contact].owner_id for _pk, contact, owner in rows)
    starts = []
    for pk, contact_id, owner_id in rows:
        owner = owner_id or held[contact_id].owner_id
        starts.append(ClockStart(pk, owner, teams.get(owner), held[contact_id].at))
    return clocks_start(handoff=Handoff.MEETING_FOLLOW_UP, starts=starts)

"""Who must leave a program, and the set-based writes that enrol and let go.

The incubator hands a contact back as soon as they are ready (seed 004 §5): they became an MQL,
replied, opted out, bounced, or met the program's custom condition. The engine checks these for
a whole chunk at each advance; the `leads_moved` receiver exits new MQLs at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from cible.core import bulk
from cible.core.idsets import InIds
from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.lifecycle.leads.models import FINAL, Lead, Stage, StageTransition
from cible.nurture.programs.models import (
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    EventKind,
    ExitReason,
    NurtureProgram,
    TargetExit,
)
from cible.people.models import Contact
from cible.segments.targets.models import Target, TargetLevel
from cible.segments.targets.selectors import target_resolve

# Becoming an MQL, or going further (a lead Sales took straight on), ends nurturing.
READY = (Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)
CHUNK = 5_000
EVENT_COLUMNS = ["enrolment_id", "step_id", "kind", "detail", "occurred_at"]


def chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def insert_events(rows: list[tuple[Any, ...]]) -> None:
    """(enrolment_id, step_id, kind, detail, occurred_at) rows, through the bulk path."""
    if rows:
        bulk.bulk_insert(EnrolmentEvent, EVENT_COLUMNS, rows)


def became_ready() -> Exists:
    """A lead of the enrolment's contact reached MQL (or beyond) since enrolment."""
    return Exists(
        StageTransition.objects.filter(
            lead__contact_id=OuterRef("contact_id"),
            to_stage__in=READY,
            occurred_at__gt=OuterRef("enrolled_at"),
        )
    )


def interacted(kind: str) -> Exists:
    """The enrolment's contact had an interaction of `kind` since enrolment."""
    return Exists(
        Interaction.objects.filter(
            contact_id=OuterRef("contact_id"), kind=kind, occurred_at__gte=OuterRef("enrolled_at")
        )
    )


def target_contacts(target: Target) -> QuerySet[Contact]:
    """The contacts a target names, for the whole base (a system check, not a person's view)."""
    records = target_resolve(target=target)
    if target.level == TargetLevel.CONTACT:
        return records
    return Contact.objects.filter(organisation__in=records.values("pk"))


CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    (ExitReason.OPT_OUT, "exit_on_opt_out", lambda: Q(contact__email_opt_out=True)),
    (ExitReason.BOUNCE, "exit_on_bounce", lambda: Q(contact__email_bounced_at__isnull=False)),
    (ExitReason.REPLY, "exit_on_reply", lambda: interacted(InteractionKind.EMAIL_REPLIED)),
    (ExitReason.MQL, "exit_on_mql", became_ready),
)


def due_exits(ids: list[int], programs: Mapping[int, NurtureProgram]) -> dict[int, str]:
    """Which of the enrolments `ids` must leave, and why (the first reason found wins)."""
    found: dict[int, str] = {}
    if not ids:
        return found
    base = Enrolment.objects.filter(InIds("pk", ids), status=EnrolmentStatus.ACTIVE)
    for reason, flag, condition in CONDITIONS:
        concerned = [pk for pk, p in programs.items() if getattr(p, flag)]
        if not concerned:
            continue
        matched = base.filter(program_id__in=concerned).filter(condition())
        for pk in matched.values_list("pk", flat=True):
            found.setdefault(pk, reason)
    for program in programs.values():
        if program.exit_target_id is None or program.exit_target_when == TargetExit.NONE:
            continue
        assert program.exit_target is not None
        members = target_contacts(program.exit_target).values("pk")
        mine = base.filter(program_id=program.pk)
        if program.exit_target_when == TargetExit.ENTERS:
            matched = mine.filter(contact_id__in=members)
        else:
            matched = mine.exclude(contact_id__in=members)
        for pk in matched.values_list("pk", flat=True):
            found.setdefault(pk, ExitReason.TARGET)
    return found


def exit_enrolments(reasons: Mapping[int, str], *, now: dt.datetime) -> int:
    """End the active enrolments of `reasons` (id → reason) with an event each; set-based."""
    by_reason: dict[str, list[int]] = {}
    for pk, reason in reasons.items():
        by_reason.setdefault(reason, []).append(pk)
    total = 0
    events: list[tuple[Any, ...]] = []
    for reason, ids in by_reason.items():
        for chunk in chunks(ids):
            rows = list(
                Enrolment.objects.filter(
                    InIds("pk", chunk), status=EnrolmentStatus.ACTIVE
                ).values_list("pk", "step_id")
            )
            Enrolment.objects.filter(InIds("pk", [r[0] for r in rows])).update(
                status=EnrolmentStatus.EXITED, exit_reason=reason, exited_at=now, next_run_at=None
            )
            events.extend((pk, step, EventKind.EXITED, reason, now) for pk, step in rows)
            total += len(rows)
    insert_events(events)
    return total


def insert_enrolments(
    *,
    program: NurtureProgram,
    contact_ids: Iterable[int],
    source: str,
    actor: Any,
    now: dt.datetime,
    lead_of: Mapping[int, int] | None = None,
) -> list[int]:
    """Enrol the eligible contacts (not already active in `program`, not opted out, not erased)
    and return the new enrolments' ids. Each starts at the first step, due at once; its lead is
    the one given in `lead_of` (contact → lead) or the contact's live lead."""
    wanted = sorted({int(pk) for pk in contact_ids})
    lead_of = dict(lead_of or {})
    created: list[int] = []
    actor_id = getattr(actor, "pk", None)
    for chunk in chunks(wanted):
        eligible = list(
            Contact.objects.filter(
                InIds("pk", chunk), email_opt_out=False, anonymised_at__isnull=True
            )
            .exclude(
                pk__in=Enrolment.objects.filter(
                    InIds("contact_id", chunk), program=program, status=EnrolmentStatus.ACTIVE
                ).values("contact_id")
            )
            .values_list("pk", flat=True)
        )
        if not eligible:
            continue
        leads = _leads(eligible, lead_of)
        rows = [
            (
                program.pk,
                pk,
                leads.get(pk, (None, ""))[0],
                leads.get(pk, (None, ""))[1],
                program.entry_id,
                now,
                EnrolmentStatus.ACTIVE,
                now,
                now,
                source,
                actor_id,
            )
            for pk in eligible
        ]
        _insert(rows)
        new = list(
            Enrolment.objects.filter(
                InIds("contact_id", eligible),
                program=program,
                status=EnrolmentStatus.ACTIVE,
                enrolled_at=now,
            ).values_list("pk", flat=True)
        )
        insert_events([(pk, program.entry_id, EventKind.ENROLLED, source, now) for pk in new])
        created.extend(new)
    return created


ENROLMENT_COLUMNS = [
    "program_id",
    "contact_id",
    "lead_id",
    "lead_stage",
    "step_id",
    "step_entered_at",
    "status",
    "next_run_at",
    "enrolled_at",
    "source",
    "enrolled_by_id",
]


def _insert(rows: list[tuple[Any, ...]]) -> None:
    """The bulk path; a contact enrolled meanwhile by someone else (the one-active constraint)
    sends the chunk through the ORM, which skips the conflicting rows."""
    try:
        with transaction.atomic():
            bulk.bulk_insert(Enrolment, ENROLMENT_COLUMNS, rows)
    except IntegrityError:
        objects = [Enrolment(**dict(zip(ENROLMENT_COLUMNS, row, strict=True))) for row in rows]
        Enrolment.objects.bulk_create(objects, ignore_conflicts=True, batch_size=500)


def _leads(contact_ids: list[int], given: Mapping[int, int]) -> dict[int, tuple[int, str]]:
    """contact → (lead id, its stage): the given lead, else the contact's live one."""
    chosen = [given[pk] for pk in contact_ids if pk in given]
    found: dict[int, tuple[int, str]] = {}
    for lead_id, contact_id, stage in Lead.objects.filter(pk__in=chosen).values_list(
        "pk", "contact_id", "stage"
    ):
        if contact_id is not None:
            found[contact_id] = (lead_id, stage)
    rest = [pk for pk in contact_ids if pk not in found]
    if rest:
        live = (
            Lead.objects.filter(InIds("contact_id", rest))
            .exclude(stage__in=FINAL)
            .values_list("pk", "contact_id", "stage")
        )
        for lead_id, contact_id, stage in live:
            found[contact_id] = (lead_id, stage)
    return found

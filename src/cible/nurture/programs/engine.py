"""The incubator's engine: moves every due enrolment through its program, set-based.

`advance_due` takes the due enrolments (`next_run_at` ≤ now, active, in a running program) a
chunk at a time. Each chunk is ONE transaction holding everything it does: the exits, the steps
of every kind for the whole group at each step (one `queue_messages` call per email step, one
`create_tasks` call per task step, one query per branch), the enrolments' new positions (one
UPDATE per distinct outcome) and their events (one bulk insert). Emails go into the outbox in the
same transaction, keyed `nurture:<enrolment>:<step>`; so do tasks, and the in-app notifications
of their assignees. So a worker killed anywhere in a chunk
leaves it exactly as it was, and the restart runs it once: no step skipped, none repeated.

Within a chunk an enrolment keeps walking (send → wait is one advance) until it must wait, ends,
or leaves; programs are acyclic (validation.py), so the walk is bounded by their length. On
PostgreSQL concurrent workers claim disjoint chunks (`FOR UPDATE SKIP LOCKED`); SQLite has one
writer at a time anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.idsets import InIds
from cible.engagement.tasks import services as tasks
from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import FINAL, Lead
from cible.lifecycle.leads.moves import OPENING
from cible.nurture.mailing import services as mailing
from cible.nurture.mailing.models import EmailTemplate
from cible.nurture.programs import conditions, exits, schedule
from cible.nurture.programs.models import (
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EventKind,
    ExitReason,
    NurtureProgram,
    ProgramStatus,
    ProgramStep,
    StepKind,
)
from cible.people.models import Contact

logger = logging.getLogger(__name__)

CHUNK = 5_000
RUNNING = (ProgramStatus.ACTIVE, ProgramStatus.PAUSED)


@dataclass
class AdvanceReport:
    """What one `advance_due` did."""

    enrolments: int = 0  # enrolments taken up
    steps_run: int = 0
    emails_queued: int = 0
    tasks_created: int = 0
    completed: int = 0
    exited: int = 0
    chunks: int = 0


def message_key(enrolment_id: int, step_id: int) -> str:
    """The idempotency key of a step's email (and task) for one enrolment."""
    return f"nurture:{enrolment_id}:{step_id}"


def origin_of(program_id: int) -> str:
    """What the outbox's messages of a program are tagged with (metrics count by it)."""
    return f"nurture:{program_id}"


@dataclass(slots=True)
class State:
    id: int
    program_id: int
    step_id: int | None
    contact_id: int
    lead_id: int | None
    enrolled_at: dt.datetime
    entered: dt.datetime
    next_run: dt.datetime | None
    status: str = EnrolmentStatus.ACTIVE
    exit_reason: str = ""
    changed: bool = False


@dataclass
class Chunk:
    """One transaction's worth of enrolments and what happens to them."""

    now: dt.datetime
    report: AdvanceReport
    programs: dict[int, NurtureProgram]
    steps: dict[int, ProgramStep]
    states: dict[int, State]
    events: list[tuple[Any, ...]] = field(default_factory=list)

    def event(self, state: State, step_id: int | None, kind: str, detail: str = "") -> None:
        self.events.append((state.id, step_id, kind, detail[:255], self.now))

    def go(self, state: State, step_id: int | None) -> None:
        """On to `step_id`, due at once; no step left means the program is completed."""
        state.changed = True
        if step_id is None:
            state.status, state.step_id, state.next_run = EnrolmentStatus.COMPLETED, None, None
            self.event(state, None, EventKind.COMPLETED)
            self.report.completed += 1
            return
        state.step_id, state.entered, state.next_run = step_id, self.now, self.now

    def leave(self, state: State, step_id: int | None, reason: str) -> None:
        state.changed = True
        state.status, state.exit_reason, state.next_run = EnrolmentStatus.EXITED, reason, None
        self.event(state, step_id, EventKind.EXITED, reason)
        self.report.exited += 1


def advance_due(*, now: dt.datetime | None = None, limit: int | None = None) -> AdvanceReport:
    """Run every due step of every running program (at most `limit` enrolments)."""
    now = now or timezone.now()
    report = AdvanceReport()
    while limit is None or report.enrolments < limit:
        size = CHUNK if limit is None else min(CHUNK, limit - report.enrolments)
        with transaction.atomic():
            states = _claim(now, size)
            if not states:
                break
            run_chunk(states, now=now, report=report)
        report.chunks += 1
        report.enrolments += len(states)
    return report


def _claim(now: dt.datetime, size: int) -> list[State]:
    qs = Enrolment.objects.filter(
        status=EnrolmentStatus.ACTIVE, next_run_at__lte=now, program__status=ProgramStatus.ACTIVE
    ).order_by("next_run_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = qs.values_list(
        "id",
        "program_id",
        "step_id",
        "contact_id",
        "lead_id",
        "enrolled_at",
        "step_entered_at",
        "next_run_at",
    )[:size]
    return [State(*row) for row in rows]


def run_chunk(states: list[State], *, now: dt.datetime, report: AdvanceReport) -> None:
    """Everything due for `states`, written at the end; the caller holds the transaction."""
    program_ids = {s.program_id for s in states}
    programs = {
        p.pk: p
        for p in NurtureProgram.objects.filter(pk__in=program_ids).select_related("exit_target")
    }
    chunk = Chunk(
        now=now,
        report=report,
        programs=programs,
        steps={s.pk: s for s in ProgramStep.objects.filter(program_id__in=program_ids)},
        states={s.id: s for s in states},
    )
    for pk, reason in exits.due_exits(list(chunk.states), programs).items():
        state = chunk.states[pk]
        chunk.leave(state, state.step_id, reason)
    for _hop in range(len(chunk.steps) + 1):
        due = [s for s in chunk.states.values() if _is_due(s, now)]
        if not due:
            break
        by_step: dict[int | None, list[State]] = defaultdict(list)
        for state in due:
            by_step[state.step_id].append(state)
        for step_id, group in by_step.items():
            step = chunk.steps.get(step_id) if step_id is not None else None
            if step is None:
                for state in group:
                    chunk.leave(state, None, ExitReason.STEP_REMOVED)
                continue
            HANDLERS[step.kind](chunk, step, group)
            report.steps_run += len(group)
    for state in chunk.states.values():
        if _is_due(state, now):  # cannot happen in a sound program; never spin on it
            logger.warning("nurture: enrolment %s still due after a full walk", state.id)
            state.next_run, state.changed = now + dt.timedelta(minutes=1), True
    save_states(chunk)
    exits.insert_events(chunk.events)


def _is_due(state: State, now: dt.datetime) -> bool:
    return (
        state.status == EnrolmentStatus.ACTIVE
        and state.next_run is not None
        and state.next_run <= now
    )


def save_states(chunk: Chunk) -> None:
    """One UPDATE per distinct outcome (a chunk has few: the steps and wake times it reached)."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for s in chunk.states.values():
        if s.changed:
            groups[(s.step_id, s.entered, s.next_run, s.status, s.exit_reason)].append(s.id)
    for (step_id, entered, next_run, status, reason), ids in groups.items():
        finished = status != EnrolmentStatus.ACTIVE
        for part in exits.chunks(ids):
            Enrolment.objects.filter(InIds("pk", part)).update(
                step_id=step_id,
                step_entered_at=entered,
                next_run_at=next_run,
                status=status,
                exit_reason=reason,
                exited_at=chunk.now if finished else None,
            )


# --- the steps ------------------------------------------------------------------------------------


def _send_email(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    template = EmailTemplate.objects.filter(pk=step.config.get("template") or 0).first()
    if template is None:
        for state in group:
            chunk.event(state, step.pk, EventKind.EMAIL_SKIPPED, "template deleted")
            chunk.go(state, step.next_id)
        return
    outcome = mailing.queue_messages(
        template=template,
        recipients=[(s.contact_id, message_key(s.id, step.pk)) for s in group],
        origin=origin_of(step.program_id),
        channel=Channel.JOB,
    )
    chunk.report.emails_queued += outcome.queued
    for state in group:
        reason = outcome.suppressed.get(state.contact_id)
        if reason:
            chunk.event(state, step.pk, EventKind.EMAIL_SKIPPED, str(reason))
        else:
            chunk.event(state, step.pk, EventKind.EMAIL_QUEUED)
        chunk.go(state, step.next_id)


def _wait(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    for state in group:
        wake = schedule.wake_time(step.config, entered=state.entered, now=chunk.now)
        if wake <= chunk.now:
            chunk.event(state, step.pk, EventKind.WAITED)
            chunk.go(state, step.next_id)
        elif state.next_run != wake:
            chunk.event(state, step.pk, EventKind.WAITING, f"{wake:%Y-%m-%d %H:%M} UTC")
            state.next_run, state.changed = wake, True


def _create_task(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    config = step.config
    named = config.get("user")
    owners = {} if config.get("assign_to") == "user" else _owners(group)
    due_days = int(config.get("due_days") or 0)
    rows = []
    for state in group:
        assignee = owners.get(state.id) or named
        if assignee is None:
            chunk.event(state, step.pk, EventKind.TASK_SKIPPED, "nobody to assign")
        else:
            rows.append(
                tasks.TaskRow(
                    assignee=assignee,
                    title=str(config.get("title") or ""),
                    note=str(config.get("note") or ""),
                    kind=str(config.get("kind") or "follow_up"),
                    due_at=chunk.now + dt.timedelta(days=due_days) if due_days else None,
                    contact=state.contact_id,
                    source=origin_of(step.program_id),
                    key=message_key(state.id, step.pk),
                )
            )
            chunk.event(state, step.pk, EventKind.TASK_CREATED)
        chunk.go(state, step.next_id)
    if rows:
        # Each assignee hears once per step and chunk ("12 new tasks for you"), not per task,
        # and only of the tasks this run created: a chunk run again tells nobody twice.
        program = chunk.programs[step.program_id]
        chunk.report.tasks_created += tasks.create_tasks(
            rows=rows,
            channel=Channel.JOB,
            origin=format_lazy(gettext_lazy("nurture program “{name}”"), name=program.name),
        )


def _owners(group: list[State]) -> dict[int, int]:
    """enrolment → the owner of its lead, else of its contact, else of the organisation."""
    lead_owner = dict(
        Lead.objects.filter(InIds("pk", [s.lead_id for s in group if s.lead_id])).values_list(
            "pk", "owner_id"
        )
    )
    contact_owner = {
        pk: owner or org_owner
        for pk, owner, org_owner in Contact.objects.filter(
            InIds("pk", [s.contact_id for s in group])
        ).values_list("pk", "owner_id", "organisation__owner_id")
    }
    found = {}
    for s in group:
        owner = lead_owner.get(s.lead_id) if s.lead_id else None
        owner = owner or contact_owner.get(s.contact_id)
        if owner:
            found[s.id] = owner
    return found


def _branch(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    senders = [
        s.pk
        for s in chunk.steps.values()
        if s.program_id == step.program_id and s.kind == StepKind.SEND_EMAIL
    ]
    yes = conditions.holds(step.config, group, send_steps=senders, key=message_key)
    for state in group:
        if state.id in yes:
            chunk.event(state, step.pk, EventKind.BRANCH_YES)
            chunk.go(state, step.yes_id)
        else:
            chunk.event(state, step.pk, EventKind.BRANCH_NO)
            chunk.go(state, step.no_id)


def _change_stage(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    """Through the leads' own services, one lead at a time: each move is checked against the
    stage graph and the agreed definitions, and writes its transition (a refused move is an
    event, not a failure of the chunk)."""
    stage = str(step.config.get("stage") or "")
    note = str(step.config.get("note") or "")
    live = _live_leads(group)
    for state in group:
        lead = live.get(state.contact_id)
        try:
            with transaction.atomic():
                if lead is None:
                    if stage not in OPENING:
                        raise CibleError("no live lead to move")
                    leads.open_lead(
                        contact=state.contact_id,
                        source="other",
                        stage=stage,
                        actor=None,
                        channel=Channel.JOB,
                    )
                else:
                    leads.move(
                        lead=lead,
                        to_stage=stage,
                        actor=None,
                        channel=Channel.JOB,
                        reason=str(step.config.get("reason") or ""),
                        note=note,
                        requalify_on=timezone.localdate(chunk.now)
                        + dt.timedelta(days=int(step.config.get("requalify_days") or 90)),
                    )
        except CibleError as error:
            chunk.event(state, step.pk, EventKind.STAGE_UNCHANGED, str(error))
        else:
            chunk.event(state, step.pk, EventKind.STAGE_CHANGED, stage)
        chunk.go(state, step.next_id)


def _live_leads(group: list[State]) -> dict[int, Lead]:
    """contact → their live lead (the enrolment's own one first, when still live)."""
    leads_ = Lead.objects.filter(InIds("contact_id", [s.contact_id for s in group])).exclude(
        stage__in=FINAL
    )
    return {lead.contact_id: lead for lead in leads_ if lead.contact_id is not None}


def _enrol_program(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    target = NurtureProgram.objects.filter(pk=step.config.get("program") or 0).first()
    if target is None or target.status not in RUNNING:
        for state in group:
            chunk.event(state, step.pk, EventKind.ENROLLED_ELSEWHERE, "program not running")
            chunk.go(state, step.next_id)
        return
    exits.insert_enrolments(
        program=target,
        contact_ids=[s.contact_id for s in group],
        source=EnrolmentSource.PROGRAM,
        actor=None,
        now=chunk.now,
        lead_of={s.contact_id: s.lead_id for s in group if s.lead_id},
    )
    for state in group:
        chunk.event(state, step.pk, EventKind.ENROLLED_ELSEWHERE, target.name)
        chunk.go(state, step.next_id)


def _exit(chunk: Chunk, step: ProgramStep, group: list[State]) -> None:
    for state in group:
        chunk.leave(state, step.pk, ExitReason.EXIT_STEP)


HANDLERS: dict[str, Callable[[Chunk, ProgramStep, list[State]], None]] = {
    StepKind.SEND_EMAIL: _send_email,
    StepKind.WAIT: _wait,
    StepKind.CREATE_TASK: _create_task,
    StepKind.BRANCH: _branch,
    StepKind.CHANGE_STAGE: _change_stage,
    StepKind.ENROL_PROGRAM: _enrol_program,
    StepKind.EXIT: _exit,
}

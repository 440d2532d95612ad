"""Reads of nurture programs: the list with its figures, the editor's graph, where every enrolled
contact is, a program's metrics and its comparison with leads that were not nurtured, and a
contact's programs. Enrolments and messages go through `core.access.visible` (they are seen by
whoever sees their contact), so every count and row a person sees is one they may see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.engagement.interactions.models import InteractionKind
from cible.lifecycle.leads.models import Lead, Stage, StageTransition
from cible.nurture.mailing.models import EmailTemplate, OutboundMessage
from cible.nurture.programs import graph, steps, validation
from cible.nurture.programs.engine import origin_of
from cible.nurture.programs.exits import became_ready, interacted
from cible.nurture.programs.models import (
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    NurtureProgram,
    ProgramStatus,
    ProgramStep,
)
from cible.people.models import Contact

ROWS_PER_STEP = 50


def program_list(*, viewer: Any) -> list[NurtureProgram]:
    """Every program (archived last), each with `figures`: its visible enrolments and emails."""
    programs = list(NurtureProgram.objects.order_by("status", "name", "id"))
    programs.sort(key=lambda p: (p.status == ProgramStatus.ARCHIVED, p.name.lower(), p.pk))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"enrolled": 0, "active": 0})
    rows = (
        access.visible(viewer, Enrolment.objects.all())
        .values("program_id")
        .annotate(enrolled=Count("pk"), active=Count("pk", filter=Q(status=EnrolmentStatus.ACTIVE)))
    )
    for row in rows:
        counts[row["program_id"]] = {"enrolled": row["enrolled"], "active": row["active"]}
    sent = dict(
        access.visible(viewer, OutboundMessage.objects.filter(origin__startswith="nurture:"))
        .values("origin")
        .annotate(n=Count("sent_at"))
        .values_list("origin", "n")
    )
    for program in programs:
        program.figures = {**counts[program.pk], "sent": sent.get(origin_of(program.pk), 0)}  # type: ignore[attr-defined]
    return programs


def program_get(*, viewer: Any, pk: Any) -> NurtureProgram:
    if access.role_of(viewer) is None:
        raise NotFound(_("Not found."))
    program = NurtureProgram.objects.filter(pk=pk).select_related("entry", "exit_target").first()
    if program is None:
        raise NotFound(_("No such program."))
    return program


def visible_enrolments(*, viewer: Any, program: NurtureProgram) -> QuerySet[Enrolment]:
    return access.visible(viewer, Enrolment.objects.filter(program=program))


# --- the editor -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    step: ProgramStep
    name: str
    summary: str
    waiting: int
    problems: list[str]
    is_entry: bool


def _names(program_steps: list[ProgramStep]) -> dict[str, dict[int, str]]:
    from django.contrib.auth import get_user_model

    from cible.segments.axes.models import Segment

    wanted: dict[str, set[int]] = defaultdict(set)
    for s in program_steps:
        for key, group in (
            ("template", "templates"),
            ("program", "programs"),
            ("user", "users"),
            ("segment", "segments"),
        ):
            if s.config.get(key):
                wanted[group].add(int(s.config[key]))
    users = get_user_model().objects.filter(pk__in=wanted["users"])
    return {
        "templates": dict(
            EmailTemplate.objects.filter(pk__in=wanted["templates"]).values_list("pk", "name")
        ),
        "programs": dict(
            NurtureProgram.objects.filter(pk__in=wanted["programs"]).values_list("pk", "name")
        ),
        "users": {u.pk: u.get_full_name() or u.username for u in users},
        "segments": dict(
            Segment.objects.filter(pk__in=wanted["segments"]).values_list("pk", "name")
        ),
        "steps": {s.pk: validation.step_name(s) for s in program_steps},
    }


def program_editor(*, viewer: Any, program: NurtureProgram) -> dict[str, Any]:
    """The steps (with what each does and how many contacts wait there), the problems that keep
    the program from running, and the graph for ECharts."""
    program_steps = list(program.steps.all())
    waiting = dict(
        visible_enrolments(viewer=viewer, program=program)
        .filter(status=EnrolmentStatus.ACTIVE)
        .values("step_id")
        .annotate(n=Count("pk"))
        .values_list("step_id", "n")
    )
    problems = validation.program_problems(program, program_steps)
    by_step: dict[int | None, list[str]] = defaultdict(list)
    for problem in problems:
        by_step[problem.step].append(problem.message)
    names = _names(program_steps)
    views = [
        StepView(
            step=s,
            name=validation.step_name(s),
            summary=steps.describe(s.kind, s.config, names),
            waiting=waiting.get(s.pk, 0),
            problems=by_step.get(s.pk, []),
            is_entry=s.pk == program.entry_id,
        )
        for s in program_steps
    ]
    return {
        "steps": views,
        "problems": problems,
        "chart": _chart(program, views),
    }


def _chart(program: NurtureProgram, views: list[StepView]) -> dict[str, Any]:
    """Nodes placed by depth from the first step (x) and order within a depth (y)."""
    nodes = validation.nodes_of([v.step for v in views])
    depth = graph.depths({n.id: n for n in nodes}, program.entry_id)
    rows: dict[int, int] = defaultdict(int)
    data = []
    for view in views:
        level = depth.get(view.step.pk, max(depth.values(), default=0) + 1)
        data.append(
            {
                "id": str(view.step.pk),
                "name": view.name,
                "value": view.waiting,
                "kind": view.step.kind,
                "summary": view.summary,
                "x": level * 220,
                "y": rows[level] * 110,
                "entry": view.is_entry,
                "problem": bool(view.problems),
            }
        )
        rows[level] += 1
    links = []
    for view in views:
        s = view.step
        for target, label in ((s.next_id, ""), (s.yes_id, _("yes")), (s.no_id, _("no"))):
            if target is None or (s.kind == "branch") == (label == ""):
                continue
            links.append({"source": str(s.pk), "target": str(target), "label": str(label)})
    return {"nodes": data, "links": links, "waiting": _("waiting")}


# --- where everyone is ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepPeople:
    step: ProgramStep | None
    name: str
    count: int
    enrolments: list[Enrolment]


def where_everyone_is(*, viewer: Any, program: NurtureProgram) -> list[StepPeople]:
    """Per step, the active enrolments the viewer may see: a count, and the first rows by next
    run (contact, since when, next run)."""
    base = visible_enrolments(viewer=viewer, program=program).filter(status=EnrolmentStatus.ACTIVE)
    counts = dict(base.values("step_id").annotate(n=Count("pk")).values_list("step_id", "n"))
    program_steps = list(program.steps.all())
    result = []
    for step in program_steps:
        count = counts.get(step.pk, 0)
        rows = (
            list(
                base.filter(step=step)
                .select_related("contact", "contact__organisation")
                .order_by("next_run_at", "pk")[:ROWS_PER_STEP]
            )
            if count
            else []
        )
        result.append(StepPeople(step, validation.step_name(step), count, rows))
    return result


# --- metrics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Leads — people: a contact enrolled twice, or with two leads, counts once — and how many
    of them became customers."""

    count: int
    converted: int
    unit: str = "leads"  # named in the API's answer, so nobody reads enrolments into it

    @property
    def rate(self) -> float | None:
        return self.converted / self.count if self.count else None


@dataclass(frozen=True)
class ProgramMetrics:
    enrolled: int
    active: int
    completed: int
    exited: int
    sent: int
    opened: int
    clicked: int
    replies: int
    mqls: int
    nurtured: Comparison
    not_nurtured: Comparison
    since: dt.datetime | None
    stages: list[str]


def program_metrics(*, viewer: Any, program: NurtureProgram) -> ProgramMetrics:
    enrolments = visible_enrolments(viewer=viewer, program=program)
    totals = enrolments.aggregate(
        enrolled=Count("pk"),
        active=Count("pk", filter=Q(status=EnrolmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrolmentStatus.COMPLETED)),
        exited=Count("pk", filter=Q(status=EnrolmentStatus.EXITED)),
        since=Min("enrolled_at"),
    )
    mail = access.visible(viewer, OutboundMessage.objects.filter(origin=origin_of(program.pk)))
    emails = mail.aggregate(
        sent=Count("sent_at"), opened=Count("opened_at"), clicked=Count("clicked_at")
    )
    # Replies, MQLs and the comparison count people, not enrolments: a contact enrolled twice
    # who became an MQL once is one MQL, and one lead beside the leads never nurtured.
    replies = _people(enrolments.filter(interacted(InteractionKind.EMAIL_REPLIED)))
    mqls = _people(enrolments.filter(became_ready()))
    customer = StageTransition.objects.filter(
        lead__contact_id=OuterRef("contact_id"),
        to_stage=Stage.CUSTOMER,
        occurred_at__gt=OuterRef("enrolled_at"),
    )
    nurtured = Comparison(
        count=_people(enrolments), converted=_people(enrolments.filter(Exists(customer)))
    )
    stages = sorted(set(enrolments.exclude(lead_stage="").values_list("lead_stage", flat=True)))
    since = totals["since"]
    return ProgramMetrics(
        enrolled=totals["enrolled"],
        active=totals["active"],
        completed=totals["completed"],
        exited=totals["exited"],
        sent=emails["sent"],
        opened=emails["opened"],
        clicked=emails["clicked"],
        replies=replies,
        mqls=mqls,
        nurtured=nurtured,
        not_nurtured=_not_nurtured(viewer, stages, since),
        since=since,
        stages=stages,
    )


def _people(rows: QuerySet[Any]) -> int:
    """How many distinct contacts `rows` (enrolments or leads) are about."""
    return rows.order_by().values("contact_id").distinct().count()


def _not_nurtured(viewer: Any, stages: list[str], since: dt.datetime | None) -> Comparison:
    """Leads (people, as for the nurtured) that entered the same stages over the same period and
    were never enrolled in any program: how many, and how many became customers since."""
    if not stages or since is None:
        return Comparison(0, 0)
    entered = StageTransition.objects.filter(
        lead_id=OuterRef("pk"), to_stage__in=stages, occurred_at__gte=since
    )
    enrolled = Enrolment.objects.filter(contact_id=OuterRef("contact_id"))
    won = StageTransition.objects.filter(
        lead_id=OuterRef("pk"), to_stage=Stage.CUSTOMER, occurred_at__gte=since
    )
    leads = access.visible(
        viewer,
        Lead.objects.filter(contact__isnull=False)
        .filter(Exists(entered))
        .exclude(Exists(enrolled)),
    )
    return Comparison(count=_people(leads), converted=_people(leads.filter(Exists(won))))


# --- a contact's programs -------------------------------------------------------------------------


def contact_enrolments(*, viewer: Any, contact: Contact) -> list[Enrolment]:
    return list(
        access.visible(viewer, Enrolment.objects.filter(contact=contact))
        .select_related("program", "step")
        .order_by("-enrolled_at", "-pk")[:50]
    )


def enrolment_get(*, viewer: Any, pk: Any) -> Enrolment:
    found = access.visible(viewer, Enrolment.objects.filter(pk=pk)).first()
    if found is None:
        raise NotFound(_("No such enrolment."))
    return found


def visible_contact_ids(*, viewer: Any, ids: list[int]) -> list[int]:
    """The ids of `ids` naming contacts `viewer` may see (others are skipped, never revealed)."""
    return list(
        access.visible(viewer, Contact.objects.filter(pk__in=ids)).values_list("pk", flat=True)
    )


def enrolment_history(*, enrolment: Enrolment) -> QuerySet[EnrolmentEvent]:
    return enrolment.events.select_related("step").order_by("occurred_at", "pk")


def programs_taking_contacts() -> QuerySet[NurtureProgram]:
    return NurtureProgram.objects.filter(
        status__in=(ProgramStatus.ACTIVE, ProgramStatus.PAUSED)
    ).order_by("name")

"""API shapes of programs, steps, enrolments and metrics (shape only: the services validate)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams, LooseBool
from cible.nurture.programs.models import Enrolment, NurtureProgram, ProgramStep


class ProgramIn(InputSchema):
    name: str
    description: str = ""
    exit_on_mql: LooseBool = True
    exit_on_reply: LooseBool = True
    exit_on_opt_out: LooseBool = True
    exit_on_bounce: LooseBool = True
    exit_target: Id | None = Field(None, description="A target id: the custom exit.")
    exit_target_when: str = Field("", description="enters, leaves or empty (no custom exit).")
    enrol_on_stage: str = Field("", description="Enrol leads entering this stage (e.g. recycled).")


class ProgramPatch(InputSchema):
    version: int = Field(..., description="The version you read; a newer one gives 409.")
    name: str | None = None
    description: str | None = None
    exit_on_mql: LooseBool = None
    exit_on_reply: LooseBool = None
    exit_on_opt_out: LooseBool = None
    exit_on_bounce: LooseBool = None
    exit_target: Id | None = None
    exit_target_when: str | None = None
    enrol_on_stage: str | None = None


class StatusIn(InputSchema):
    status: str = Field(..., description="active, paused or archived.")


class StepIn(InputSchema):
    kind: str = Field(..., description="send_email, wait, create_task, branch, change_stage, …")
    label: str = ""
    config: dict[str, Any] = Field(default_factory=dict, description="The kind's settings.")
    next: Id | None = None
    yes: Id | None = None
    no: Id | None = None
    after: Id | None = Field(None, description="Insert behind this step (taking its place).")
    answer: str = Field("next", description="For `after` a branch: yes or no.")


class StepPatch(InputSchema):
    label: str | None = None
    config: dict[str, Any] | None = None
    next: Id | None = None
    yes: Id | None = None
    no: Id | None = None


class EnrolIn(InputSchema):
    contacts: list[Id] = Field(default_factory=list, max_length=10_000)
    target: Id | None = Field(None, description="Enrol the contacts of this target too.")


class EnrolOut(Schema):
    enrolled: int


class StepOut(Schema):
    id: int
    kind: str
    label: str
    config: dict[str, Any]
    next: int | None
    yes: int | None
    no: int | None
    waiting: int


class ProblemOut(Schema):
    step: int | None
    message: str


class ProgramOut(Schema):
    id: int
    version: int
    name: str
    description: str
    status: str
    entry: int | None
    exit_on_mql: bool
    exit_on_reply: bool
    exit_on_opt_out: bool
    exit_on_bounce: bool
    exit_target: int | None
    exit_target_when: str
    enrol_on_stage: str
    activated_at: dt.datetime | None


class ProgramDetailOut(ProgramOut):
    steps: list[StepOut]
    problems: list[ProblemOut]


class EnrolmentOut(Schema):
    id: int
    program: int
    contact: int
    lead: int | None
    step: int | None
    status: str
    source: str
    enrolled_at: dt.datetime
    next_run_at: dt.datetime | None
    exit_reason: str
    exited_at: dt.datetime | None


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    next_cursor: str | None
    count: int | None = None


class EnrolmentQuery(ListParams):
    status: str | None = Field(None, description="active, completed or exited.")
    step: Id | None = None


class ComparisonOut(Schema):
    count: int = Field(
        description="Leads, counted as people: a contact enrolled twice, or with two leads, "
        "counts once."
    )
    converted: int = Field(description="Of those leads, how many became customers.")
    rate: float | None
    unit: Literal["leads"] = Field(description="What `count` and `converted` count: leads.")


class MetricsOut(Schema):
    enrolled: int = Field(description="Enrolments (a contact enrolled twice counts twice).")
    active: int
    completed: int
    exited: int
    sent: int
    opened: int
    clicked: int
    replies: int = Field(description="Enrolled contacts who replied (people, not enrolments).")
    mqls: int = Field(description="Enrolled contacts who became MQLs (people, not enrolments).")
    nurtured: ComparisonOut
    not_nurtured: ComparisonOut
    since: dt.datetime | None
    stages: list[str]


def program_out(program: NurtureProgram) -> dict[str, Any]:
    return {
        **{
            name: getattr(program, name)
            for name in (
                "id",
                "version",
                "name",
                "description",
                "status",
                "exit_on_mql",
                "exit_on_reply",
                "exit_on_opt_out",
                "exit_on_bounce",
                "exit_target_when",
                "enrol_on_stage",
                "activated_at",
            )
        },
        "entry": program.entry_id,
        "exit_target": program.exit_target_id,
    }


def step_out(step: ProgramStep, waiting: int = 0) -> dict[str, Any]:
    return {
        "id": step.pk,
        "kind": step.kind,
        "label": step.label,
        "config": step.config,
        "next": step.next_id,
        "yes": step.yes_id,
        "no": step.no_id,
        "waiting": waiting,
    }


def enrolment_out(e: Enrolment) -> dict[str, Any]:
    return {
        "id": e.pk,
        "program": e.program_id,
        "contact": e.contact_id,
        "lead": e.lead_id,
        "step": e.step_id,
        "status": e.status,
        "source": e.source,
        "enrolled_at": e.enrolled_at,
        "next_run_at": e.next_run_at,
        "exit_reason": e.exit_reason,
        "exited_at": e.exited_at,
    }

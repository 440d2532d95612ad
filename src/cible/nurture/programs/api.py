"""REST endpoints of nurture programs, their steps, enrolments and metrics: thin over the
selectors and services (paths under /nurture/…)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from cible.nurture.programs import selectors, services
from cible.nurture.programs.models import NurtureProgram, ProgramStep
from cible.nurture.programs.schemas import (
    EnrolIn,
    EnrolmentOut,
    EnrolmentPage,
    EnrolmentQuery,
    EnrolOut,
    MetricsOut,
    ProgramDetailOut,
    ProgramIn,
    ProgramOut,
    ProgramPatch,
    StatusIn,
    StepIn,
    StepOut,
    StepPatch,
    enrolment_out,
    program_out,
    step_out,
)
from cible.segments.targets.selectors import target_list

router = Router(tags=["Nurture programs"])


def _program(request: HttpRequest, pk: int) -> NurtureProgram:
    return selectors.program_get(viewer=viewer(request), pk=pk)


def _step(program: NurtureProgram, pk: int) -> ProgramStep:
    step = program.steps.filter(pk=pk).first()
    if step is None:
        raise NotFound(_("No such step in this program."))
    return step


def _detail(request: HttpRequest, program: NurtureProgram) -> dict[str, Any]:
    editor = selectors.program_editor(viewer=viewer(request), program=program)
    return {
        **program_out(program),
        "steps": [step_out(v.step, v.waiting) for v in editor["steps"]],
        "problems": [{"step": p.step, "message": p.message} for p in editor["problems"]],
    }


@router.get("/nurture/programs", response={200: list[ProgramOut], **ERRORS})
def list_programs(request: HttpRequest) -> Any:
    return [program_out(p) for p in selectors.program_list(viewer=viewer(request))]


@router.post("/nurture/programs", response={201: ProgramOut, **WRITE_ERRORS})
def create_program(request: HttpRequest, payload: ProgramIn) -> Any:
    program = services.program_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return Status(201, program_out(program))


@router.get("/nurture/programs/{pk}", response={200: ProgramDetailOut, **ERRORS})
def get_program(request: HttpRequest, pk: Path[Id]) -> Any:
    """The program, its steps (with the contacts waiting at each) and what keeps it from running."""
    return _detail(request, _program(request, pk))


@router.patch("/nurture/programs/{pk}", response={200: ProgramOut, **WRITE_ERRORS})
def update_program(request: HttpRequest, pk: Path[Id], payload: ProgramPatch) -> Any:
    program = _program(request, pk)
    data = payload.data()
    version = data.pop("version")
    services.program_update(
        program=program,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return program_out(program)


@router.post("/nurture/programs/{pk}/status", response={200: ProgramOut, **WRITE_ERRORS})
def set_status(request: HttpRequest, pk: Path[Id], payload: StatusIn) -> Any:
    """Activate (422 listing every problem, each naming its step), pause or archive."""
    program = services.program_set_status(
        program=_program(request, pk),
        status=payload.status,
        actor=viewer(request),
        channel=Channel.API,
    )
    return program_out(program)


@router.post("/nurture/programs/{pk}/steps", response={201: StepOut, **WRITE_ERRORS})
def add_step(request: HttpRequest, pk: Path[Id], payload: StepIn) -> Any:
    program = _program(request, pk)
    data = payload.data()
    after = _step(program, data.pop("after")) if data.get("after") else None
    data.pop("after", None)
    kind, answer = data.pop("kind"), data.pop("answer", "next")
    step = services.step_create(
        program=program,
        kind=kind,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        after=after,
        answer=answer,
    )
    return Status(201, step_out(step))


@router.patch("/nurture/programs/{pk}/steps/{step_pk}", response={200: StepOut, **WRITE_ERRORS})
def update_step(request: HttpRequest, pk: Path[Id], step_pk: Path[Id], payload: StepPatch) -> Any:
    """Change a step; on a running program, 422 when the program would no longer be sound."""
    step = _step(_program(request, pk), step_pk)
    services.step_update(step=step, actor=viewer(request), channel=Channel.API, data=payload.data())
    return step_out(step)


@router.delete("/nurture/programs/{pk}/steps/{step_pk}", response={204: None, **WRITE_ERRORS})
def delete_step(request: HttpRequest, pk: Path[Id], step_pk: Path[Id]) -> Any:
    step = _step(_program(request, pk), step_pk)
    services.step_delete(step=step, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.get("/nurture/programs/{pk}/enrolments", response={200: EnrolmentPage, **ERRORS})
def list_enrolments(request: HttpRequest, pk: Path[Id], params: Query[EnrolmentQuery]) -> Any:
    """The enrolments whose contact you may see: where each one is and when it runs next."""
    qs = selectors.visible_enrolments(viewer=viewer(request), program=_program(request, pk))
    if params.status:
        qs = qs.filter(status=params.status)
    if params.step:
        qs = qs.filter(step_id=params.step)
    return paginate(
        qs.order_by("pk"),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=enrolment_out,
    )


@router.post("/nurture/programs/{pk}/enrolments", response={200: EnrolOut, **WRITE_ERRORS})
def enrol(request: HttpRequest, pk: Path[Id], payload: EnrolIn) -> Any:
    """Enrol contacts by id and/or the contacts of a target; those already in, opted out or
    not visible to you are skipped."""
    program = _program(request, pk)
    user = viewer(request)
    if not services.may_edit(user):
        raise PermissionDenied(_("Only Marketing enrols contacts in bulk."))
    count = 0
    if payload.target is not None:
        target = target_list(viewer=user).filter(pk=payload.target).first()
        if target is None:
            raise ValidationFailed(errors=[FieldError("target", _("no such target"))])
        count += services.enrol_target(
            program=program, target=target, actor=user, channel=Channel.API
        )
    if payload.contacts:
        visible = selectors.visible_contact_ids(viewer=user, ids=payload.contacts)
        count += services.enrol(
            program=program, contact_ids=visible, source="manual", actor=user, channel=Channel.API
        )
    return {"enrolled": count}


@router.post("/nurture/enrolments/{pk}/exit", response={200: EnrolmentOut, **WRITE_ERRORS})
def exit_enrolment(request: HttpRequest, pk: Path[Id]) -> Any:
    enrolment = selectors.enrolment_get(viewer=viewer(request), pk=pk)
    services.unenrol(enrolment=enrolment, actor=viewer(request), channel=Channel.API)
    enrolment.refresh_from_db()
    return enrolment_out(enrolment)


@router.get("/nurture/programs/{pk}/metrics", response={200: MetricsOut, **ERRORS})
def metrics(request: HttpRequest, pk: Path[Id]) -> Any:
    """Enrolments, active, emails sent/opened/clicked, replies, MQLs produced, and conversion to
    sale beside similar leads that were never nurtured (both sides count leads: people)."""
    found = selectors.program_metrics(viewer=viewer(request), program=_program(request, pk))
    data = asdict(found)
    for group in ("nurtured", "not_nurtured"):
        data[group]["rate"] = getattr(found, group).rate
    return data

"""Every write to nurture programs: programs and their steps (Marketing's), their status, and
enrolments (by hand, by target, by stage, by routing). The engine that walks enrolments through
the steps is `engine.py`; `advance_due` here is its one entry point.

A running program (active or paused) is always sound: each edit of one is checked as a whole
(validation.py) and refused, untouched, if it would leave a loop, a dead end or an unfinished
step behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, bulk, values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads.models import Lead, Stage
from cible.nurture.programs import engine, exits, steps, validation
from cible.nurture.programs.engine import AdvanceReport
from cible.nurture.programs.models import (
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    ExitReason,
    NurtureProgram,
    ProgramStatus,
    ProgramStep,
    StepKind,
    TargetExit,
)
from cible.people.models import Contact
from cible.segments.targets.models import Target
from cible.segments.targets.selectors import target_queryset

EDITORS = (Role.MARKETING, Role.ADMIN)
RUNNING = (ProgramStatus.ACTIVE, ProgramStatus.PAUSED)
EXIT_FLAGS = ("exit_on_mql", "exit_on_reply", "exit_on_opt_out", "exit_on_bounce")


def may_edit(actor: Any) -> bool:
    return access.role_of(actor) in EDITORS


def _require_editor(actor: Any, program: NurtureProgram | None = None) -> None:
    if actor is not None and not may_edit(actor):
        raise PermissionDenied(_("Only Marketing builds and runs nurture programs."))
    if program is not None and program.status == ProgramStatus.ARCHIVED:
        raise ValidationFailed(_("This program is archived: it can no longer be changed."))


# --- programs -------------------------------------------------------------------------------------


def _clean_program(data: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors.append(FieldError("name", _("give the program a name")))
        elif len(name) > 150:
            errors.append(FieldError("name", _("at most 150 characters")))
        clean["name"] = name
    if "description" in data:
        text = str(data.get("description") or "").strip()
        if len(text) > 2000:
            errors.append(FieldError("description", _("at most 2,000 characters")))
        clean["description"] = text
    for flag in EXIT_FLAGS:
        if flag in data:
            clean[flag] = bool(_parsed(errors, lambda f=flag: values.boolean(data[f], field=f)))
    if "enrol_on_stage" in data:
        clean["enrol_on_stage"] = (
            _parsed(
                errors,
                lambda: values.choice(
                    data["enrol_on_stage"], field="enrol_on_stage", choices=Stage.choices
                ),
            )
            or ""
        )
    if "exit_target_when" in data:
        clean["exit_target_when"] = (
            _parsed(
                errors,
                lambda: values.choice(
                    data["exit_target_when"], field="exit_target_when", choices=TargetExit.choices
                ),
            )
            or ""
        )
    if "exit_target" in data:
        raw = data["exit_target"]
        target = None
        if raw not in (None, ""):
            target = Target.objects.filter(pk=raw).first() if values.is_id(raw) else None
            if target is None:
                errors.append(FieldError("exit_target", _("no such target")))
        clean["exit_target"] = target
    return clean


def _parsed(errors: list[FieldError], parse: Any) -> Any:
    from cible.core.normalisers import NormalisationError

    try:
        return parse()
    except NormalisationError as error:
        errors.append(FieldError(error.field, error.message))
        return None


@transaction.atomic
def program_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> NurtureProgram:
    """A new draft program (no steps yet)."""
    _require_editor(actor)
    errors: list[FieldError] = []
    clean = _clean_program({"name": "", **data}, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    program = NurtureProgram(created_by=actor if getattr(actor, "pk", None) else None, **clean)
    with audit_context(actor=actor, channel=channel):
        program.save()
    return program


@transaction.atomic
def program_update(
    *,
    program: NurtureProgram,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> NurtureProgram:
    """Change the name, description, exits or stage enrolment (not the status: see below)."""
    _require_editor(actor, program)
    errors: list[FieldError] = []
    clean = _clean_program(data, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    for name, value in clean.items():
        setattr(program, name, value)
    if program.exit_target_when and program.exit_target is None:
        raise ValidationFailed(errors=[FieldError("exit_target", _("choose the target"))])
    with audit_context(actor=actor, channel=channel):
        save_versioned(program, expected_version=expected_version)
    return program


@transaction.atomic
def program_set_status(
    *, program: NurtureProgram, status: str, actor: Any, channel: str
) -> NurtureProgram:
    """Activate (only a sound program), pause (enrolments wait where they are), resume, or
    archive (for good: active enrolments leave with the reason "program archived")."""
    program.refresh_from_db()  # a one-click action: on the program as it stands now
    _require_editor(actor, program)
    if status not in ProgramStatus.values or status == ProgramStatus.DRAFT:
        raise ValidationFailed(
            errors=[FieldError("status", _("choose active, paused or archived"))]
        )
    if status == ProgramStatus.ACTIVE:
        validation.require_sound(program)
        program.activated_at = program.activated_at or timezone.now()
    if status == ProgramStatus.PAUSED and program.status != ProgramStatus.ACTIVE:
        raise ValidationFailed(_("Only an active program can be paused."))
    program.status = status
    with audit_context(actor=actor, channel=channel):
        save_versioned(program)
    if status == ProgramStatus.ARCHIVED:
        ids = list(
            program.enrolments.filter(status=EnrolmentStatus.ACTIVE).values_list("pk", flat=True)
        )
        exits.exit_enrolments(dict.fromkeys(ids, ExitReason.ARCHIVED), now=timezone.now())
    return program


# --- steps ----------------------------------------------------------------------------------------


def _step_ref(program: NurtureProgram, raw: Any, field: str, errors: list[FieldError]) -> Any:
    if raw in (None, ""):
        return None
    if isinstance(raw, ProgramStep):
        raw = raw.pk
    found = (
        ProgramStep.objects.filter(pk=raw, program=program).first() if values.is_id(raw) else None
    )
    if found is None:
        errors.append(
            FieldError(field, _("no step #%(id)s in this program") % {"id": str(raw)[:20]})
        )
    return found


def _apply_step(step: ProgramStep, data: Mapping[str, Any], errors: list[FieldError]) -> None:
    if "label" in data:
        label = str(data.get("label") or "").strip()
        if len(label) > 150:
            errors.append(FieldError("label", _("at most 150 characters")))
        step.label = label[:150]
    if "config" in data:
        config, problems = steps.clean_config(step.kind, data.get("config") or {})
        errors.extend(FieldError(f"config.{e.field}", e.message) for e in problems)
        step.config = config
    for link in ("next", "yes", "no"):
        if link in data:
            target = _step_ref(step.program, data[link], link, errors)
            if target is not None and target.pk == step.pk:
                errors.append(FieldError(link, _("a step cannot lead to itself")))
            setattr(step, link, target)
    if "position" in data:
        position = _parsed(errors, lambda: values.whole_number(data["position"], field="position"))
        step.position = position or 0


def _after_change(program: NurtureProgram) -> None:
    """A running program must stay sound; every change bumps its version."""
    NurtureProgram.objects.filter(pk=program.pk).update(version=F("version") + 1)
    program.refresh_from_db(fields=["version", "entry"])
    if program.status in RUNNING:
        validation.require_sound(program)


@transaction.atomic
def step_create(
    *,
    program: NurtureProgram,
    kind: str,
    actor: Any,
    channel: str,
    data: Mapping[str, Any] | None = None,
    after: ProgramStep | None = None,
    answer: str = "next",
) -> ProgramStep:
    """Add a step. `after` (and `answer`: next, yes or no) links the new step behind an
    existing one, taking over where that one led; the first step of a program becomes its entry."""
    _require_editor(actor, program)
    if kind not in StepKind.values:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "kind", _("choose one of: %(kinds)s") % {"kinds": ", ".join(StepKind.values)}
                )
            ]
        )
    errors: list[FieldError] = []
    last = program.steps.order_by("-position").values_list("position", flat=True).first()
    step = ProgramStep(program=program, kind=kind, position=(last or 0) + 1)
    _apply_step(step, {"config": {}, **(data or {})}, errors)
    if answer not in ("next", "yes", "no"):
        errors.append(FieldError("answer", _("choose next, yes or no")))
    if after is not None and after.program_id != program.pk:
        errors.append(FieldError("after", _("that step belongs to another program")))
    if errors:
        raise ValidationFailed(errors=errors)
    with audit_context(actor=actor, channel=channel):
        step.save()
        if after is not None:
            _link_after(after, step, answer, data or {})
        if program.entry_id is None:
            program.entry = step
            NurtureProgram.objects.filter(pk=program.pk).update(entry=step)
    _after_change(program)
    return step


def _link_after(
    after: ProgramStep, step: ProgramStep, answer: str, data: Mapping[str, Any]
) -> None:
    """Put `step` between `after` and where `after` led (on its `answer` side for a branch)."""
    link = answer if after.kind == StepKind.BRANCH else "next"
    if link == "next" and after.kind == StepKind.BRANCH:
        link = "yes" if after.yes_id is None else "no"
    onward = getattr(after, f"{link}_id")
    if onward is not None:
        if step.kind == StepKind.BRANCH and "yes" not in data:
            step.yes_id = onward
        elif step.kind != StepKind.EXIT and "next" not in data:
            step.next_id = onward
        step.save()
    setattr(after, f"{link}_id", step.pk)
    after.save()


@transaction.atomic
def step_update(
    *, step: ProgramStep, actor: Any, channel: str, data: Mapping[str, Any]
) -> ProgramStep:
    """Change a step's label, settings or links (`next`, `yes`, `no`: step ids or None)."""
    program = step.program
    _require_editor(actor, program)
    errors: list[FieldError] = []
    _apply_step(step, data, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    with audit_context(actor=actor, channel=channel):
        step.save()
    _after_change(program)
    return step


@transaction.atomic
def step_delete(*, step: ProgramStep, actor: Any, channel: str) -> None:
    """Remove a step; the steps that led to it lead where it led (a branch's "yes" side)."""
    program = step.program
    _require_editor(actor, program)
    waiting = step.enrolments.filter(status=EnrolmentStatus.ACTIVE).count()
    if waiting:
        raise ConflictError(
            _(
                "%(count)s contacts are at this step: wait until they have moved on, "
                "or take them out of the program first."
            )
            % {"count": waiting}
        )
    onward = step.yes_id if step.kind == StepKind.BRANCH else step.next_id
    for link in ("next", "yes", "no"):
        ProgramStep.objects.filter(program=program, **{f"{link}_id": step.pk}).update(
            **{f"{link}_id": onward}
        )
    if program.entry_id == step.pk:
        program.entry_id = onward
        NurtureProgram.objects.filter(pk=program.pk).update(entry_id=onward)
    with audit_context(actor=actor, channel=channel):
        step.delete()
    _after_change(program)


@transaction.atomic
def program_set_entry(
    *, program: NurtureProgram, step: ProgramStep, actor: Any, channel: str
) -> None:
    _require_editor(actor, program)
    if step.program_id != program.pk:
        raise ValidationFailed(
            errors=[FieldError("entry", _("that step belongs to another program"))]
        )
    program.entry = step
    NurtureProgram.objects.filter(pk=program.pk).update(entry=step)
    _after_change(program)


# --- enrolments -----------------------------------------------------------------------------------


def _require_running(program: NurtureProgram) -> None:
    if program.status not in RUNNING:
        raise ValidationFailed(
            _("“%(name)s” is %(status)s: only an active or paused program takes contacts.")
            % {"name": program.name, "status": program.get_status_display().lower()},
            errors=[FieldError("program", _("the program is not running"))],
        )


@transaction.atomic
def enrol(
    *,
    program: NurtureProgram,
    contact_ids: Iterable[int],
    source: str,
    actor: Any,
    channel: str,
    lead_ids: Iterable[int] | None = None,
) -> int:
    """Enrol contacts (set-based); those already active in the program, opted out or erased
    are skipped. `lead_ids` name the leads that brought them (routing, stage). Returns the
    number enrolled."""
    _require_running(program)
    if source not in EnrolmentSource.values:
        raise ValidationFailed(errors=[FieldError("source", _("unknown enrolment source"))])
    lead_of: dict[int, int] = {}
    if lead_ids:
        for lead_id, contact_id in Lead.objects.filter(pk__in=list(lead_ids)).values_list(
            "pk", "contact_id"
        ):
            if contact_id is not None:
                lead_of[contact_id] = lead_id
    wanted = {*map(int, contact_ids), *lead_of}
    now = timezone.now()
    created = exits.insert_enrolments(
        program=program, contact_ids=wanted, source=source, actor=actor, now=now, lead_of=lead_of
    )
    if created:
        bulk.log_bulk(
            actor=actor,
            channel=channel,
            model=Enrolment,
            rows=len(created),
            summary=f"{len(created)} contacts enrolled in {program.name}",
            details={"program": program.pk, "source": source},
        )
    return len(created)


def enrol_target(*, program: NurtureProgram, target: Target, actor: Any, channel: str) -> int:
    """Enrol the contacts of `target` that `actor` may see (an organisation target: their
    contacts)."""
    _require_editor(actor)
    records = target_queryset(viewer=actor, target=target)
    if target.is_contact_level:
        contacts = records
    else:
        contacts = access.visible(
            actor, Contact.objects.filter(organisation__in=records.values("pk"))
        )
    ids = list(contacts.values_list("pk", flat=True))
    return enrol(
        program=program,
        contact_ids=ids,
        source=EnrolmentSource.TARGET,
        actor=actor,
        channel=channel,
    )


def enrol_contact(
    *, program: NurtureProgram, contact: Contact, actor: Any, channel: str
) -> Enrolment:
    """Enrol one contact by hand (from their page); says why when they cannot be."""
    if not access.can(actor, "change", contact):
        raise PermissionDenied(_("You may not enrol this contact."))
    _require_running(program)
    if contact.email_opt_out:
        raise ValidationFailed(
            _("%(contact)s opted out of emails: they cannot be nurtured.") % {"contact": contact}
        )
    current = program.enrolments.filter(contact=contact, status=EnrolmentStatus.ACTIVE).first()
    if current is not None:
        raise ConflictError(
            _("%(contact)s is already in “%(program)s”.") % {"contact": contact, "program": program}
        )
    enrol(
        program=program,
        contact_ids=[contact.pk],
        source=EnrolmentSource.MANUAL,
        actor=actor,
        channel=channel,
    )
    found = program.enrolments.filter(contact=contact, status=EnrolmentStatus.ACTIVE).first()
    if found is None:  # erased meanwhile, or enrolled and ended by a concurrent call
        raise ConflictError(_("%(contact)s could not be enrolled.") % {"contact": contact})
    return found


@transaction.atomic
def unenrol(*, enrolment: Enrolment, actor: Any, channel: str) -> None:
    """Take a contact out of a program by hand."""
    if not access.can(actor, "change", enrolment.contact):
        raise PermissionDenied(_("You may not change this contact's programs."))
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise ValidationFailed(_("This enrolment has already ended."))
    with audit_context(actor=actor, channel=channel):
        exits.exit_enrolments({enrolment.pk: ExitReason.BY_HAND}, now=timezone.now())


def advance_due(*, now: dt.datetime | None = None, limit: int | None = None) -> AdvanceReport:
    """Run every due step of every active program (the worker calls it each minute)."""
    return engine.advance_due(now=now, limit=limit)

"""Pages of the incubator: the programs with their figures; a program's page — the visual editor
(graph, steps edited in place over HTMX, what keeps it from running), its metrics, where every
enrolled contact is — and the "Nurture" tab of a contact. Thin over selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.calendars import DAY_NAMES
from cible.core.errors import CibleError, NotFound
from cible.engagement.tasks.models import TaskKind
from cible.lifecycle.leads.models import RecycleReason
from cible.nurture.mailing.models import EmailTemplate
from cible.nurture.programs import selectors, services, steps
from cible.nurture.programs.forms import ProgramForm
from cible.nurture.programs.models import Enrolment, NurtureProgram, ProgramStep, StepKind
from cible.people.models import Contact
from cible.segments.axes.models import Segment
from cible.segments.targets.selectors import target_list

# The settings each kind of step reads from its form.
CONFIG_FIELDS: dict[str, tuple[str, ...]] = {
    StepKind.SEND_EMAIL: ("template",),
    StepKind.WAIT: ("mode", "days", "hours", "until", "weekdays", "start", "end", "tz"),
    StepKind.CREATE_TASK: ("assign_to", "user", "title", "note", "kind", "due_days"),
    StepKind.BRANCH: ("condition", "email_step", "score", "threshold", "segment"),
    StepKind.CHANGE_STAGE: ("stage", "reason", "note", "requalify_days"),
    StepKind.ENROL_PROGRAM: ("program",),
    StepKind.EXIT: (),
}


def _program(request: HttpRequest, pk: int) -> NurtureProgram:
    try:
        return selectors.program_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _step(program: NurtureProgram, step_pk: Any) -> ProgramStep:
    step = program.steps.filter(pk=step_pk).first() if str(step_pk).isdigit() else None
    if step is None:
        raise Http404
    return step


@login_required
@require_GET
def program_list_view(request: HttpRequest) -> HttpResponse:
    return _list(request, ProgramForm())


def _list(request: HttpRequest, form: ProgramForm, status: int = 200) -> HttpResponse:
    context = {
        "programs": selectors.program_list(viewer=request.user),
        "form": form,
        "may_edit": services.may_edit(request.user),
    }
    return render(request, "nurture/list.html", context, status=status)


@login_required
@require_POST
def program_create_view(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=422)
    try:
        data = {k: form.cleaned_data[k] for k in ("name", "description")}
        program = services.program_create(actor=request.user, channel=Channel.UI, data=data)
    except CibleError as error:
        form.show(error)
        return _list(request, form, status=422)
    messages.success(request, _("Program created: add its first step."))
    return HttpResponseRedirect(reverse("nurture:detail", args=[program.pk]))


def editor_context(request: HttpRequest, program: NurtureProgram, **extra: Any) -> dict[str, Any]:
    """What the editor partial needs (the whole page adds metrics and the contacts)."""
    User = get_user_model()
    return {
        "program": program,
        "editor": selectors.program_editor(viewer=request.user, program=program),
        "may_edit": services.may_edit(request.user) and program.is_editable,
        "kinds": StepKind.choices,
        "templates": EmailTemplate.objects.order_by("name").values_list("pk", "name"),
        "other_programs": NurtureProgram.objects.exclude(pk=program.pk)
        .exclude(status="archived")
        .values_list("pk", "name"),
        "users": [
            (u.pk, u.get_full_name() or u.username)
            for u in User.objects.filter(is_active=True).order_by("first_name", "username")
        ],
        "segments": Segment.objects.select_related("axis").order_by("axis__name", "name"),
        "wait_modes": steps.WAIT_MODES,
        "conditions": steps.CONDITIONS,
        "scores": steps.SCORES,
        "assignees": steps.ASSIGNEES,
        "task_kinds": TaskKind.choices,
        "stages": [(s.value, s.label) for s in steps.STAGES],
        "recycle_reasons": RecycleReason.choices,
        "weekdays": list(enumerate(DAY_NAMES)),
        **extra,
    }


@login_required
@require_GET
def program_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _program(request, pk))


def _detail(
    request: HttpRequest, program: NurtureProgram, status: int = 200, **extra: Any
) -> HttpResponse:
    context = editor_context(request, program, **extra)
    context.update(
        metrics=selectors.program_metrics(viewer=request.user, program=program),
        where=selectors.where_everyone_is(viewer=request.user, program=program),
        settings_form=extra.get("settings_form") or ProgramForm.for_program(program),
        targets=target_list(viewer=request.user),
    )
    return render(request, "nurture/detail.html", context, status=status)


def _editor_answer(
    request: HttpRequest, program: NurtureProgram, error: CibleError | None = None, step: Any = None
) -> HttpResponse:
    """HTMX gets the editor again (with the error beside the step); a plain form post goes back
    to the page, with the error on top."""
    program.refresh_from_db()
    if request.htmx:  # type: ignore[attr-defined]
        context = editor_context(
            request, program, error=str(error) if error else "", error_step=step
        )
        return render(request, "nurture/_editor.html", context)
    if error is not None:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("nurture:detail", args=[program.pk]) + "#editor")


def _config_from(post: Any, kind: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in CONFIG_FIELDS.get(kind, ()):
        config[name] = post.getlist(name) if name == "weekdays" else post.get(name, "")
    return config


@login_required
@require_POST
def step_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    program = _program(request, pk)
    after = _step(program, request.POST["after"]) if request.POST.get("after") else None
    try:
        services.step_create(
            program=program,
            kind=request.POST.get("kind", ""),
            actor=request.user,
            channel=Channel.UI,
            data={"label": request.POST.get("label", "")},
            after=after,
            answer=request.POST.get("answer") or "next",
        )
    except CibleError as error:
        return _editor_answer(request, program, error)
    return _editor_answer(request, program)


@login_required
@require_POST
def step_edit_view(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    program = _program(request, pk)
    step = _step(program, step_pk)
    data: dict[str, Any] = {
        "label": request.POST.get("label", ""),
        "config": _config_from(request.POST, step.kind),
    }
    for link in ("next", "yes", "no"):
        if link in request.POST:
            data[link] = request.POST.get(link) or None
    try:
        services.step_update(step=step, actor=request.user, channel=Channel.UI, data=data)
    except CibleError as error:
        return _editor_answer(request, program, error, step=step.pk)
    return _editor_answer(request, program)


@login_required
@require_POST
def step_delete_view(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    program = _program(request, pk)
    step = _step(program, step_pk)
    try:
        services.step_delete(step=step, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        return _editor_answer(request, program, error, step=step.pk)
    return _editor_answer(request, program)


@login_required
@require_POST
def step_entry_view(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    program = _program(request, pk)
    try:
        services.program_set_entry(
            program=program, step=_step(program, step_pk), actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        return _editor_answer(request, program, error, step=step_pk)
    return _editor_answer(request, program)


@login_required
@require_POST
def program_settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    program = _program(request, pk)
    form = ProgramForm(request.POST)
    if form.is_valid():
        try:
            services.program_update(
                program=program,
                actor=request.user,
                channel=Channel.UI,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except CibleError as error:
            form.show(error)
        else:
            messages.success(request, _("Program saved."))
            return HttpResponseRedirect(reverse("nurture:detail", args=[program.pk]))
    program.refresh_from_db()
    return _detail(request, program, status=422, settings_form=form)


STATUS_DONE = {
    "active": _("The program is running: contacts move through it every minute."),
    "paused": _("The program is paused: contacts wait where they are."),
    "archived": _("The program is archived."),
}


@login_required
@require_POST
def program_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    program = _program(request, pk)
    status = request.POST.get("status", "")
    try:
        services.program_set_status(
            program=program, status=status, actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, str(STATUS_DONE.get(status, "")))
    return HttpResponseRedirect(reverse("nurture:detail", args=[program.pk]))


@login_required
@require_POST
def program_enrol_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Enrol the contacts of a target."""
    program = _program(request, pk)
    target = target_list(viewer=request.user).filter(pk=request.POST.get("target") or 0).first()
    if target is None:
        messages.error(request, _("Choose one of your targets."))
    else:
        try:
            count = services.enrol_target(
                program=program, target=target, actor=request.user, channel=Channel.UI
            )
        except CibleError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(count)s contacts of “%(target)s” enrolled.")
                % {"count": count, "target": target},
            )
    return HttpResponseRedirect(reverse("nurture:detail", args=[program.pk]))


def _contact_page(contact: Contact) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("people:contact_detail", args=[contact.pk]) + "#tab-nurture"
    )


@login_required
@require_POST
def contact_enrol_view(request: HttpRequest, contact_pk: int) -> HttpResponse:
    contact = access.visible(request.user, Contact.objects.filter(pk=contact_pk)).first()
    if contact is None:
        raise Http404
    program = (
        selectors.programs_taking_contacts().filter(pk=request.POST.get("program") or 0).first()
    )
    if program is None:
        messages.error(request, _("Choose an active program."))
        return _contact_page(contact)
    try:
        services.enrol_contact(
            program=program, contact=contact, actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(contact)s enrolled in “%(program)s”.") % {"contact": contact, "program": program},
        )
    return _contact_page(contact)


def _enrolment(request: HttpRequest, pk: int) -> Enrolment:
    found = (
        access.visible(request.user, Enrolment.objects.filter(pk=pk))
        .select_related("program", "contact", "step")
        .first()
    )
    if found is None:
        raise Http404
    return found


@login_required
@require_GET
def enrolment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    context = {
        "enrolment": enrolment,
        "events": selectors.enrolment_history(enrolment=enrolment),
        "may_change": access.can(request.user, "change", enrolment.contact),
    }
    return render(request, "nurture/enrolment.html", context)


@login_required
@require_POST
def enrolment_exit_view(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment(request, pk)
    try:
        services.unenrol(enrolment=enrolment, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Taken out of the program."))
    return HttpResponseRedirect(reverse("nurture:enrolment", args=[enrolment.pk]))


def contact_section(viewer: Any, contact: Any) -> dict[str, Any] | None:
    """Registered with people.hooks: the contact's programs, where they are, and a way in."""
    enrolments = selectors.contact_enrolments(viewer=viewer, contact=contact)
    return {
        "key": "nurture",
        "title": _("Nurture"),
        "template": "nurture/_contact_section.html",
        "enrolments": enrolments,
        "count": sum(1 for e in enrolments if e.status == "active"),
        "programs": list(selectors.programs_taking_contacts()),
        "may_enrol": access.can(viewer, "change", contact) and not contact.email_opt_out,
        "contact": contact,
    }

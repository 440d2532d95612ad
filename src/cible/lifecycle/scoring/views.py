"""Pages of rule scoring (SPEC C5, seed 004 §3): the models, the editor with its "Try on a lead"
preview, a model's page (its rules in words, figures and runs) and a lead's score explained.

Thin over `selectors` and `services`: the services decide who may change a model, and a refused
save shows each problem next to its input.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound
from cible.lifecycle.scoring import selectors, services
from cible.lifecycle.scoring.definition import ENGAGEMENT_DIGITS
from cible.lifecycle.scoring.explain import explain
from cible.lifecycle.scoring.forms import ScoringModelForm
from cible.lifecycle.scoring.models import RunStatus, ScoringModel
from cible.lifecycle.scoring.selectors import Catalogue

NAME_MAX = services.NAME_MAX


def require_editor(request: HttpRequest) -> None:
    if not services.may_edit(request.user):
        raise DjangoPermissionDenied(_("Only Marketing and administrators change scoring models."))


def _model(request: HttpRequest, pk: int) -> ScoringModel:
    try:
        return selectors.model_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _detail_url(model: ScoringModel) -> str:
    return reverse("scoring:detail", args=[model.pk])


# --- the list -----------------------------------------------------------------------------------


@login_required
@require_GET
def model_list_view(request: HttpRequest) -> HttpResponse:
    context = {
        "models": selectors.model_list(viewer=request.user),
        "may_edit": services.may_edit(request.user),
    }
    return render(request, "scoring/model_list.html", context)


# --- the editor ---------------------------------------------------------------------------------


def _editor(
    request: HttpRequest,
    form: ScoringModelForm,
    model: ScoringModel | None,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    context = {"form": form, "model": model, "conflict": conflict}
    return render(request, "scoring/model_form.html", context, status=status)


def _save(request: HttpRequest, model: ScoringModel | None) -> HttpResponse:
    form = ScoringModelForm(request.POST, catalogue=Catalogue.load())
    conflict = False
    if form.is_valid():
        values = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data.get("description") or "",
            "definition": form.definition(),
        }
        try:
            if model is None:
                saved = services.model_create(actor=request.user, channel=Channel.UI, **values)
                text = _("The scoring model “%(name)s” was created.")
            else:
                version = form.cleaned_data.get("version") or model.version
                saved = services.model_update(
                    model=model, actor=request.user, channel=Channel.UI, version=version, **values
                )
                text = _("The scoring model “%(name)s” was saved.")
                if saved.is_active:
                    text += " " + _("The leads are being rescored with its new rules.")
        except ConflictError as error:
            conflict = True
            form.add_error(None, str(error))
        except CibleError as error:
            form.show(error)
        else:
            messages.success(request, text % {"name": saved.name})
            return HttpResponseRedirect(_detail_url(saved))
    if model is not None:  # the service may have changed the instance before refusing
        model = ScoringModel.objects.filter(pk=model.pk).first()
    return _editor(request, form, model, status=422, conflict=conflict)


@login_required
@require_http_methods(["GET", "POST"])
def model_create_view(request: HttpRequest) -> HttpResponse:
    require_editor(request)
    if request.method == "POST":
        return _save(request, None)
    form = ScoringModelForm(initial=ScoringModelForm.initial_from(None), catalogue=Catalogue.load())
    return _editor(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def model_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_editor(request)
    model = _model(request, pk)
    if request.method == "POST":
        return _save(request, model)
    form = ScoringModelForm(
        initial=ScoringModelForm.initial_from(model), catalogue=Catalogue.load()
    )
    return _editor(request, form, model)


@login_required
@require_POST
def preview_view(request: HttpRequest) -> HttpResponse:
    """Score one lead with the rules as typed, unsaved (HTMX): nothing is written."""
    require_editor(request)
    form = ScoringModelForm(request.POST, catalogue=Catalogue.load())
    form.is_valid()
    context: dict[str, Any] = {"errors": form.rule_errors()}
    lead_pk = (form.cleaned_data.get("try_lead") or "").strip()
    if not context["errors"] and form.rules is not None:
        if not lead_pk:
            context["errors"] = [_("Choose a lead to try the rules on.")]
        else:
            try:
                context["preview"] = selectors.preview(
                    viewer=request.user, lead_pk=lead_pk, rules=form.rules
                )
            except CibleError as error:
                context["errors"] = [e.message for e in error.errors] or [str(error)]
    return render(request, "scoring/_preview.html", context)


@login_required
@require_GET
def lead_lookup_view(request: HttpRequest) -> HttpResponse:
    """Options for the "Try on a lead" box: live leads the viewer may see, by name."""
    options = selectors.lead_lookup(viewer=request.user, text=request.GET.get("q", "")[:100])
    context = {"options": options, "target": request.GET.get("target", "")}
    return render(request, "core/widgets/_lookup_options.html", context)


# --- actions ------------------------------------------------------------------------------------


@login_required
@require_POST
def model_activate_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_editor(request)
    model = _model(request, pk)
    try:
        services.model_activate(model=model, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("“%(name)s” is now the active model; the leads are being rescored with it.")
            % {"name": model.name},
        )
    return HttpResponseRedirect(_detail_url(model))


@login_required
@require_POST
def model_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A copy to work on without touching the model in use; opens in the editor."""
    require_editor(request)
    model = _model(request, pk)
    suffix = " " + _("(copy)")
    try:
        copy = services.model_create(
            actor=request.user,
            channel=Channel.UI,
            name=model.name[: NAME_MAX - len(suffix)] + suffix,
            description=model.description,
            definition=model.definition,
        )
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_detail_url(model))
    messages.success(
        request, _("“%(name)s” was created: adjust it, then activate it.") % {"name": copy.name}
    )
    return HttpResponseRedirect(reverse("scoring:edit", args=[copy.pk]))


@login_required
@require_POST
def model_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_editor(request)
    model = _model(request, pk)
    try:
        services.model_delete(model=model, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_detail_url(model))
    messages.success(request, _("The scoring model “%(name)s” was deleted.") % {"name": model})
    return HttpResponseRedirect(reverse("scoring:list"))


@login_required
@require_POST
def rescore_view(request: HttpRequest) -> HttpResponse:
    """Rescore every live lead with the active model (queued; its page follows the run)."""
    require_editor(request)
    try:
        services.rescore_now(actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("scoring:list"))
    messages.info(request, _("Every live lead is being rescored with the active model."))
    active = selectors.active_model()
    return HttpResponseRedirect(_detail_url(active) if active else reverse("scoring:list"))


# --- a model's page -----------------------------------------------------------------------------


def _histogram(name: str, counts: list[int]) -> dict[str, Any]:
    labels = selectors.bin_labels()
    return {
        "kind": "bars",
        "name": name,
        "labels": list(reversed(labels)),
        "values": list(reversed(counts)),
        "integer": True,
    }


def _runs_context(model: ScoringModel) -> dict[str, Any]:
    runs = selectors.model_runs(model=model)
    running = next((run for run in runs if run.status == RunStatus.RUNNING), None)
    return {
        "model": model,
        "runs": runs,
        "running": running,
        "percent": selectors.run_percent(running) if running else 100,
    }


@login_required
@require_GET
def model_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    model = _model(request, pk)
    figures = selectors.lead_figures(viewer=request.user, model=model)
    try:
        sections, rules_error = selectors.describe(model), ""
    except CibleError as error:  # rules stored before a kind or a choice was retired
        sections = []
        rules_error = _("These rules can no longer be read: %(problem)s") % {"problem": error}
    context = {
        **_runs_context(model),
        "sections": sections,
        "rules_error": rules_error,
        "digits": ENGAGEMENT_DIGITS,
        "figures": figures,
        "matrix": selectors.matrix_cells(figures),
        "profile_chart": _histogram(_("Leads by profile score"), figures.profile_bins),
        "engagement_chart": _histogram(_("Leads by engagement score"), figures.engagement_bins),
        "may_edit": services.may_edit(request.user),
    }
    return render(request, "scoring/model_detail.html", context)


@login_required
@require_GET
def model_runs_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The runs of a model; polled while one runs, then the page reloads with the new figures."""
    model = _model(request, pk)
    context = _runs_context(model)
    polling = request.htmx and request.GET.get("poll")  # type: ignore[attr-defined]
    if polling and context["running"] is None:
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(request, "scoring/_runs.html", context)


# --- a lead's score explained -------------------------------------------------------------------


def explanation_context(lead: Any) -> dict[str, Any]:
    """The lead's explanation, by group, each contribution with the width of its bar."""
    explanation = explain(lead)
    groups = []
    if explanation is not None:
        widest = max((abs(c.points) for c in explanation.contributions), default=0) or 1
        for name, title, score in (
            ("profile", _("Profile: fit and BANT"), explanation.profile),
            ("engagement", _("Engagement: behaviour"), explanation.engagement),
        ):
            total = explanation.total(name)
            groups.append(
                {
                    "name": name,
                    "title": title,
                    "score": score,
                    "total": total,
                    "clamped": round(total) != score,
                    "rows": [
                        {"contribution": c, "width": round(100 * abs(c.points) / widest)}
                        for c in explanation.group(name)
                    ],
                }
            )
    return {"lead": lead, "explanation": explanation, "groups": groups}


@login_required
@require_GET
def lead_explanation_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Why a lead has its scores: a partial for any page (`hx-get`), or a page of its own."""
    try:
        lead = selectors.visible_lead(viewer=request.user, pk=lead_id)
    except NotFound:
        raise Http404 from None
    context = explanation_context(lead)
    template = "scoring/_explanation.html" if request.htmx else "scoring/explanation.html"  # type: ignore[attr-defined]
    return render(request, template, context)

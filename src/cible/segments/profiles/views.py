"""Pages of ideal customer profiles (seed 001: a conquest ICP differs from a retention ICP): the
list, the editor of weighted criteria, the scores (distribution, best fits, "Score now" with its
progress), an organisation's fit explained, and the fit section of an organisation's page.
Personas have their pages in `persona_views`.

Thin over `selectors` and `services`; every list and count covers the organisations the viewer
may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, FieldError, NotFound, ValidationFailed
from cible.core.forms import show_errors
from cible.core.values import is_id
from cible.people.models import Organisation
from cible.people.selectors import get_visible
from cible.segments import rules
from cible.segments.axes.builder import show_rule_errors
from cible.segments.axes.selectors import base_is_large
from cible.segments.profiles import selectors, services, tasks
from cible.segments.profiles.forms import CriterionForm, ProfileForm, next_row, row_prefixes
from cible.segments.profiles.models import MAX_CRITERIA, IdealCustomerProfile, RunStatus

FITS_PER_PAGE = 25
MAX_RANKED = 1000


def describe_rule(rule: Any, level: rules.Level) -> str:
    """A stored rule in words, or what keeps it from being used."""
    try:
        return rules.describe(rules.parse(rule, level=level, resolve=False))
    except rules.RuleInvalid as error:
        return _("This rule can no longer be used: %(problem)s") % {"problem": error}


def require_manager(request: HttpRequest) -> None:
    if not services.may_manage(request.user):
        raise DjangoPermissionDenied(
            _(
                "Only administrators, marketers and sales managers may change ideal customer "
                "profiles and personas."
            )
        )


def _profile(request: HttpRequest, code: str) -> IdealCustomerProfile:
    try:
        return selectors.profile_get(viewer=request.user, code=code)
    except NotFound:
        raise Http404 from None


# --- the list --------------------------------------------------------------------------------


@login_required
def profile_list_view(request: HttpRequest) -> HttpResponse:
    profiles = list(selectors.profile_list(viewer=request.user))
    return render(
        request,
        "profiles/profile_list.html",
        {"profiles": profiles, "may_manage": services.may_manage(request.user)},
    )


# --- the editor ------------------------------------------------------------------------------


def _criterion_forms(request: HttpRequest) -> list[CriterionForm]:
    return [CriterionForm(request.POST, prefix=prefix) for prefix in row_prefixes(request.POST)]


def _initial_criteria(profile: IdealCustomerProfile | None) -> list[CriterionForm]:
    if profile is None:
        return [CriterionForm(prefix="c0", initial={"weight": 1})]
    return [
        CriterionForm(prefix=f"c{i}", initial=CriterionForm.initial_from(criterion))
        for i, criterion in enumerate(selectors.profile_criteria(profile=profile))
    ]


def _show_profile_errors(
    form: ProfileForm, criteria: Sequence[CriterionForm], error: CibleError
) -> None:
    """Errors named `criteria.2.rule.conditions.0.value` go to the third row's builder; the
    rest next to the profile's fields."""
    by_row: dict[int, list[FieldError]] = {}
    rest: list[FieldError] = []
    for item in error.errors:
        parts = (item.field or "").split(".", 2)
        if parts[0] == "criteria" and len(parts) >= 2 and is_id(parts[1]):
            index = int(parts[1])
            if index < len(criteria):
                field = parts[2] if len(parts) > 2 else ""
                by_row.setdefault(index, []).append(FieldError(field, item.message))
                continue
        rest.append(item)
    for index, errors in by_row.items():
        show_rule_errors(criteria[index], type(error)(errors=errors))
    if rest:
        show_errors(form, type(error)(errors=rest))


def _editor(
    request: HttpRequest,
    form: ProfileForm,
    criteria: Sequence[CriterionForm],
    profile: IdealCustomerProfile | None,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    context = {
        "form": form,
        "criteria": criteria,
        "profile": profile,
        "conflict": conflict,
        "max_criteria": MAX_CRITERIA,
        "criteria_invalid": any(c.errors for c in criteria),
    }
    return render(request, "profiles/profile_form.html", context, status=status)


def _score_after_save(request: HttpRequest, profile: IdealCustomerProfile, text: str) -> None:
    """A small base is scored before the page answers; a large one by the task the save queued."""
    if profile.is_active and not base_is_large():
        services.fit_scores_compute(profile=profile, actor=request.user, channel=Channel.UI)
        text += " " + _("Its fit scores are up to date.")
    elif profile.is_active:
        text += " " + _("Its fit scores are being computed in the background.")
    messages.success(request, text)


def _save_profile(request: HttpRequest, profile: IdealCustomerProfile | None) -> HttpResponse:
    form = ProfileForm(request.POST)
    criteria = _criterion_forms(request)
    valid = form.is_valid()
    valid = all([c.is_valid() for c in criteria]) and valid
    conflict = False
    if valid:
        items = [c.data_for_service() for c in criteria]
        values = form.data_for_service()
        try:
            if profile is None:
                profile = services.profile_create(
                    actor=request.user, channel=Channel.UI, criteria=items, **values
                )
                text = _("The profile “%(name)s” was created.") % {"name": profile}
            else:
                if not values["code"]:
                    values.pop("code")  # left empty while editing: keep the current code
                profile = services.profile_update(
                    profile=profile,
                    actor=request.user,
                    channel=Channel.UI,
                    expected_version=form.cleaned_data.get("version"),
                    criteria=items,
                    **values,
                )
                text = _("The profile “%(name)s” was saved.") % {"name": profile}
        except ConflictError as error:
            conflict = True
            show_errors(form, error)
        except CibleError as error:
            _show_profile_errors(form, criteria, error)
        else:
            _score_after_save(request, profile, text)
            return HttpResponseRedirect(reverse("profiles:detail", args=[profile.code]))
    return _editor(request, form, criteria, profile, status=422, conflict=conflict)


@login_required
@require_http_methods(["GET", "POST"])
def profile_create_view(request: HttpRequest) -> HttpResponse:
    require_manager(request)
    if request.method == "POST":
        return _save_profile(request, None)
    form = ProfileForm(initial=ProfileForm.initial_from(None))
    return _editor(request, form, _initial_criteria(None), None)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    require_manager(request)
    profile = _profile(request, code)
    if request.method == "POST":
        return _save_profile(request, profile)
    form = ProfileForm(initial=ProfileForm.initial_from(profile))
    return _editor(request, form, _initial_criteria(profile), profile)


@login_required
@require_GET
def criterion_row_view(request: HttpRequest) -> HttpResponse:
    """One more, empty, criterion row for the editor (HTMX appends it)."""
    require_manager(request)
    if len(row_prefixes(request.GET)) >= MAX_CRITERIA:
        return HttpResponse(
            '<div class="alert alert-warning py-1 small criterion-limit">%s</div>'
            % (_("A profile has at most %(maximum)d criteria.") % {"maximum": MAX_CRITERIA})
        )
    form = CriterionForm(prefix=f"c{next_row(request.GET)}", initial={"weight": 1})
    return render(request, "profiles/_criterion.html", {"criterion": form})


@login_required
@require_POST
def profile_delete_view(request: HttpRequest, code: str) -> HttpResponse:
    require_manager(request)
    profile = _profile(request, code)
    try:
        services.profile_delete(profile=profile, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("profiles:detail", args=[profile.code]))
    messages.success(request, _("The profile “%(name)s” was deleted.") % {"name": profile})
    return HttpResponseRedirect(reverse("profiles:list"))


# --- a profile and its scores ----------------------------------------------------------------


class Ranking:
    """The best fits the viewer may see, for a Paginator: a page is one query, of at most
    MAX_RANKED rows; the length is known from the distribution (no COUNT of its own)."""

    def __init__(self, viewer: Any, profile: IdealCustomerProfile, count: int) -> None:
        self.viewer, self.profile, self.length = viewer, profile, min(count, MAX_RANKED)

    def count(self) -> int:
        return self.length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, window: slice) -> list[Any]:
        stop = min(window.stop or self.length, self.length)
        best = selectors.top_fits(viewer=self.viewer, profile=self.profile, limit=stop)
        return best[window.start or 0 : stop]


def _histogram(bands: Sequence[selectors.Band]) -> dict[str, Any]:
    top_first = list(reversed(bands))
    return {
        "kind": "bars",
        "name": str(_("Organisations")),
        "labels": [band.label for band in top_first],
        "values": [band.count for band in top_first],
        "integer": True,
    }


@login_required
def profile_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    profile = _profile(request, code)
    criteria = selectors.profile_criteria(profile=profile)
    total_weight = sum(c.weight for c in criteria) or 1
    bands = selectors.fit_distribution(viewer=request.user, profile=profile)
    scored = sum(band.count for band in bands)
    ranking = Ranking(request.user, profile, scored)
    paginator: Paginator[Any] = Paginator(ranking, FITS_PER_PAGE)  # type: ignore[arg-type]
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "profile": profile,
        "criteria": [
            {
                "criterion": c,
                "worth": 100 * c.weight / total_weight,
                "rule": describe_rule(c.rule, "organisation"),
            }
            for c in criteria
        ],
        "bands": bands,
        "scored": scored,
        "histogram": _histogram(bands),
        "page": page,
        "ranked_cap": MAX_RANKED if scored > MAX_RANKED else None,
        "run": selectors.latest_run(profile=profile),
        "may_manage": services.may_manage(request.user),
    }
    if request.htmx and request.GET.get("page"):  # type: ignore[attr-defined]
        return render(request, "profiles/_top_fits.html", context)
    return render(request, "profiles/profile_detail.html", context)


@login_required
@require_POST
def profile_score_view(request: HttpRequest, code: str) -> HttpResponse:
    """Score now: inline on a small base, else queued (the page then follows the run)."""
    require_manager(request)
    profile = _profile(request, code)
    if not profile.is_active:
        messages.error(request, _("Only active profiles are scored; activate it first."))
    elif base_is_large():
        tasks.compute_profile(profile.pk)
        messages.info(request, _("The fit scores are being computed in the background."))
    else:
        result = services.fit_scores_compute(
            profile=profile, actor=request.user, channel=Channel.UI
        )
        messages.success(
            request,
            _("%(rows)s organisations scored in %(seconds)s s.")
            % {
                "rows": number_format(result.rows, force_grouping=True),
                "seconds": number_format(round(result.seconds, 1), decimal_pos=1),
            },
        )
    return HttpResponseRedirect(reverse("profiles:detail", args=[profile.code]))


@login_required
@require_GET
def profile_run_view(request: HttpRequest, code: str) -> HttpResponse:
    """The progress of the last scoring run (polled while it runs)."""
    profile = _profile(request, code)
    run = selectors.latest_run(profile=profile)
    running = run is not None and run.status == RunStatus.RUNNING
    waiting = profile.is_active and (running or not profile.scores_current)
    if request.htmx and request.GET.get("poll") and not waiting:  # type: ignore[attr-defined]
        response = HttpResponse()
        response["HX-Refresh"] = "true"  # finished: show the new scores
        return response
    return render(request, "profiles/_run.html", {"profile": profile, "run": run})


# --- an organisation's fit explained -----------------------------------------------------------


def _organisation(request: HttpRequest, pk: int) -> Organisation:
    try:
        return get_visible(viewer=request.user, model=Organisation, pk=pk)
    except NotFound:
        raise Http404 from None


def fit_context(
    viewer: Any, profile: IdealCustomerProfile, organisation: Organisation
) -> dict[str, Any]:
    explanation = selectors.fit_explanation(
        viewer=viewer, profile=profile, organisation=organisation
    )
    stored = selectors.fit_score_of(viewer=viewer, profile=profile, organisation=organisation)
    rules_by_id = {c.pk: c.rule for c in selectors.profile_criteria(profile=profile)}
    return {
        "profile": profile,
        "organisation": organisation,
        "explanation": explanation,
        "lines": [
            {
                "contribution": c,
                "rule": describe_rule(rules_by_id.get(c.criterion_id), "organisation"),
            }
            for c in explanation.contributions
        ],
        "stored": stored,
        "stale": stored is not None and stored.score != explanation.score,
    }


@login_required
def fit_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    profile = _profile(request, code)
    organisation = _organisation(request, pk)
    try:
        context = fit_context(request.user, profile, organisation)
    except ValidationFailed as error:  # a criterion whose rule no longer validates
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("profiles:detail", args=[profile.code]))
    template = "profiles/_fit.html" if request.htmx else "profiles/fit.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def organisation_section(viewer: Any, organisation: Organisation) -> dict[str, Any] | None:
    """The fit tab of an organisation page (registered with people.hooks): its fit to every
    active profile, each explained."""
    fits = []
    for profile in selectors.profile_list(viewer=viewer, active_only=True).order_by("name", "pk"):
        try:
            fits.append(fit_context(viewer, profile, organisation))
        except CibleError:  # not visible, or a rule that no longer validates: left out
            continue
    if not fits:
        return None
    return {
        "key": "fit",
        "title": _("Fit (ICP)"),
        "template": "profiles/_organisation_fits.html",
        "fits": fits,
        "count": None,
    }

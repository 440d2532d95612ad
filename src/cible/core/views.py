"""Kernel pages: global search, API tokens, access policy."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cible.core import access, search, services
from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.forms import StyledForm, show_errors
from cible.core.models import AccessPolicy, ApiToken, Visibility


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    results = search.search(request.user, text, limit=10)
    template = (
        "core/_search_results.html"
        if getattr(request, "htmx", False) and request.GET.get("inline")
        else "core/search.html"
    )  # type: ignore[attr-defined]
    return render(request, template, {"results": results, "q": text})


class TokenForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    days_valid = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), required=False, min_value=1, max_value=3650
    )


@login_required
def tokens_view(request: HttpRequest) -> HttpResponse:
    new_key = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                days_valid=form.cleaned_data["days_valid"],
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)  # type: ignore[misc]  # login_required
    return render(request, "core/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=request.user, token_id=pk)
        messages.success(request, _("The token was revoked."))
    except CibleError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("tokens"))


class PolicyForm(StyledForm):
    account_visibility = forms.ChoiceField(
        label=gettext_lazy("Organisations and contacts"), choices=Visibility.choices
    )
    pipeline_visibility = forms.ChoiceField(
        label=gettext_lazy("Opportunities"), choices=Visibility.choices
    )
    marketing_sees_amounts = forms.BooleanField(
        label=gettext_lazy("Marketing sees deal amounts"), required=False
    )


@login_required
def policy_view(request: HttpRequest) -> HttpResponse:
    if not access.can(request.user, "administer"):
        raise Http404
    policy = AccessPolicy.current()
    form = PolicyForm(
        request.POST or None,
        initial={
            "account_visibility": policy.account_visibility,
            "pipeline_visibility": policy.pipeline_visibility,
            "marketing_sees_amounts": policy.marketing_sees_amounts,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.access_policy_update(
                actor=request.user, channel=Channel.UI, **form.cleaned_data
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("The access policy was saved."))
            return HttpResponseRedirect(reverse("access_policy"))
    return render(request, "core/policy.html", {"form": form})

"""The team directory everyone sees, and the pages administrators use to manage users and teams."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.forms import StyledForm, show_errors
from cible.core.roles import Role
from cible.people import selectors, services
from cible.people.models import Team

User = get_user_model()


def _teams() -> list[tuple[Any, str]]:
    return [(t.pk, t.name) for t in Team.objects.order_by("name")]


class UserCreateForm(StyledForm):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    first_name = forms.CharField(label=gettext_lazy("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), required=False, max_length=150)
    email = forms.CharField(label=gettext_lazy("Email"), required=False, max_length=254)
    password = forms.CharField(label=gettext_lazy("Initial password"), widget=forms.PasswordInput)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    teams = forms.MultipleChoiceField(
        label=gettext_lazy("Teams"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].choices = _teams()  # type: ignore[attr-defined]


class UserEditForm(StyledForm):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    teams = forms.MultipleChoiceField(
        label=gettext_lazy("Teams"), required=False, widget=forms.CheckboxSelectMultiple
    )
    sees_deal_amounts = forms.BooleanField(
        label=gettext_lazy("May see deal amounts"), required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active (may log in)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].choices = _teams()  # type: ignore[attr-defined]


class TeamForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    manager = forms.ChoiceField(label=gettext_lazy("Manager"), required=False)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=255)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [("", "—"), *selectors.user_choices()]  # type: ignore[attr-defined]


def _admin_only(request: HttpRequest) -> None:
    if not access.can(request.user, "administer"):
        raise Http404


@login_required
def directory_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "people/directory.html",
        {
            "teams": selectors.team_list(),
            "users": selectors.user_directory(),
            "can_administer": access.can(request.user, "administer"),
        },
    )


def _selected_teams(form: forms.Form) -> list[Team]:
    return list(Team.objects.filter(pk__in=form.cleaned_data.get("teams") or []))


@login_required
def user_create_view(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "teams"}
        try:
            services.user_invite(
                actor=request.user, channel=Channel.UI, teams=_selected_teams(form), **data
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("%(name)s can now log in.") % {"name": data["username"]})
            return HttpResponseRedirect(reverse("people:directory"))
    return render(request, "people/directory_form.html", {"form": form, "title": _("New user")})


@login_required
def user_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    user = get_object_or_404(User.objects.select_related("profile"), pk=pk)
    profile = getattr(user, "profile", None)
    initial = {
        "role": getattr(profile, "role", Role.AE),
        "teams": [str(t.pk) for t in profile.teams.all()] if profile else [],
        "sees_deal_amounts": getattr(profile, "sees_deal_amounts", False),
        "is_active": user.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=request.user,
                channel=Channel.UI,
                user=user,
                role=form.cleaned_data["role"],
                teams=_selected_teams(form),
                is_active=form.cleaned_data["is_active"],
                sees_deal_amounts=form.cleaned_data["sees_deal_amounts"],
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return HttpResponseRedirect(reverse("people:directory"))
    title = user.get_full_name() or user.get_username()
    return render(request, "people/directory_form.html", {"form": form, "title": title})


@login_required
def team_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _admin_only(request)
    team = get_object_or_404(Team, pk=pk) if pk else None
    initial = (
        {"name": team.name, "manager": team.manager_id or "", "description": team.description}
        if team
        else {}
    )
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        manager_id = form.cleaned_data["manager"]
        manager = User.objects.filter(pk=int(manager_id)).first() if manager_id else None
        try:
            services.team_save(
                actor=request.user,
                channel=Channel.UI,
                team=team,
                manager=manager,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return HttpResponseRedirect(reverse("people:directory"))
    return render(
        request,
        "people/directory_form.html",
        {"form": form, "title": team.name if team else _("New team")},
    )

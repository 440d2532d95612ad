"""The home page: what the viewer's part of the base holds, at a glance."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from cible.core import access
from cible.people.models import Contact, Organisation
from cible.pipeline.selectors import pipeline_summary


def _stage_chart(stages: list[dict[str, Any]], show_amounts: bool) -> dict[str, Any]:
    """Bars per open stage: first-year value when amounts may be shown, else deal counts."""
    list_url = reverse("pipeline:opportunity_list")
    return {
        "name": str(_("First-year value") if show_amounts else _("Deals")),
        "labels": [str(s["label"]) for s in stages],
        "values": [float(s["annual_value"]) if show_amounts else s["count"] for s in stages],
        "links": [f"{list_url}?stage={s['stage']}" for s in stages],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    stages = pipeline_summary(viewer=viewer)
    show_amounts = access.amounts_visible(viewer)
    return render(
        request,
        "home.html",
        {
            "organisations": access.visible(viewer, Organisation.objects.all()).count(),
            "contacts": access.visible(viewer, Contact.objects.all()).count(),
            "stages": stages,
            "open_deals": sum(s["count"] for s in stages),
            "show_amounts": show_amounts,
            "chart": _stage_chart(stages, show_amounts),
        },
    )

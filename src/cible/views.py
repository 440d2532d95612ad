"""The home page: what the viewer's part of the base holds, at a glance.

Record counts arrive in separate requests (HTMX): counting millions of rows must not hold up
the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
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
            "stages": stages,
            "open_deals": sum(s["count"] for s in stages),
            "show_amounts": show_amounts,
            "chart": _stage_chart(stages, show_amounts),
        },
    )


COUNTED = {"organisations": Organisation, "contacts": Contact}


@login_required
def home_count(request: HttpRequest, what: str) -> HttpResponse:
    model = COUNTED.get(what)
    if model is None:
        raise Http404
    count = access.visible(request.user, model._default_manager.all()).count()
    return HttpResponse(number_format(count, force_grouping=True))

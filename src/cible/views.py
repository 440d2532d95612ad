"""The home page: what the viewer's part of the base holds, at a glance."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cible.core import access
from cible.people.models import Contact, Organisation
from cible.pipeline.selectors import pipeline_summary


@login_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    stages = pipeline_summary(viewer=viewer)
    return render(
        request,
        "home.html",
        {
            "organisations": access.visible(viewer, Organisation.objects.all()).count(),
            "contacts": access.visible(viewer, Contact.objects.all()).count(),
            "stages": stages,
            "open_deals": sum(s["count"] for s in stages),
            "show_amounts": access.amounts_visible(viewer),
        },
    )

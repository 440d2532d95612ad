"""Reads of web capture. Forms and their submissions are Marketing's: the builder's pages are
for marketers and administrators (`services.may_build`); anyone else gets nothing."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from cible.core import access
from cible.engagement.campaigns.models import Campaign
from cible.engagement.capture.models import FormSubmission, SubmissionOutcome, WebForm
from cible.engagement.capture.services import may_build


def form_list(*, viewer: Any) -> QuerySet[WebForm]:
    """The forms with their counts of accepted and refused submissions and the latest one."""
    if not may_build(viewer):
        return WebForm.objects.none()
    return (
        WebForm.objects.select_related("campaign", "owner")
        .annotate(
            accepted_count=Count(
                "submissions", filter=Q(submissions__outcome=SubmissionOutcome.ACCEPTED)
            ),
            refused_count=Count(
                "submissions", filter=~Q(submissions__outcome=SubmissionOutcome.ACCEPTED)
            ),
            last_submitted=Max("submissions__submitted_at"),
        )
        .order_by("-is_active", "name", "pk")
    )


def form_get(*, viewer: Any, pk: int) -> WebForm | None:
    if not may_build(viewer):
        return None
    return WebForm.objects.select_related("campaign", "owner").filter(pk=pk).first()


def form_by_key(*, key: str) -> WebForm | None:
    """The public side: a form by its unguessable key (no viewer: visitors are anonymous)."""
    if not key or len(key) > 32:
        return None
    return WebForm.objects.select_related("campaign").filter(key=key).first()


def submission_list(*, viewer: Any, form: WebForm, outcome: str = "") -> QuerySet[FormSubmission]:
    """A form's submissions, newest first, with the contact, organisation and interaction
    each created or matched (the contact shown only to whoever may see it: see `linked`)."""
    if not may_build(viewer):
        return FormSubmission.objects.none()
    qs = form.submissions.select_related("contact", "organisation", "interaction")
    if outcome in SubmissionOutcome.values:
        qs = qs.filter(outcome=outcome)
    return qs.order_by("-submitted_at", "-pk")


def outcome_counts(*, viewer: Any, form: WebForm) -> dict[str, int]:
    if not may_build(viewer):
        return {}
    rows = form.submissions.values("outcome").annotate(n=Count("pk")).order_by()
    counts = {value: 0 for value in SubmissionOutcome.values}
    counts.update({row["outcome"]: row["n"] for row in rows})
    return counts


def campaign_choices(*, viewer: Any) -> QuerySet[Campaign]:
    return access.visible(viewer, Campaign.objects.order_by("name", "pk"))

"""Reads of opportunities, through the viewer's access rights (and amount visibility)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cible.core import access, listing
from cible.core.listing import Filter, ListQuery, Sort
from cible.core.search import Hit, SearchQuery
from cible.people.selectors import product_choices, user_choices
from cible.pipeline.models import OPEN_STAGES, LostReason, Opportunity, OpportunityType, Stage

OPPORTUNITY_FILTERS: tuple[Filter, ...] = (
    Filter("name", _("Name contains"), "contains"),
    Filter("organisation", _("Organisation id"), "reference", hidden=True),
    Filter(
        "organisation_name", _("Organisation starts with"), "prefix", path="organisation__name_key"
    ),
    Filter("stage", _("Stage"), "choice", choices=lambda: Stage.choices),
    Filter("type", _("Type"), "choice", choices=lambda: OpportunityType.choices),
    Filter("owner", _("Owner"), "reference", choices=user_choices),
    Filter("competitor", _("Competitor"), "reference", path="competitors", choices=product_choices),
    Filter("lost_reason", _("Lost reason"), "choice", choices=lambda: LostReason.choices),
    Filter("expected_close_date", _("Expected close"), "date"),
    Filter("closed_on", _("Closed on"), "date"),
    Filter("created_at", _("Created"), "date", path="created_at__date"),
    Filter("probability", _("Probability"), "number"),
)
AMOUNT_FILTERS: tuple[Filter, ...] = (
    Filter("one_time_amount", _("One-time amount"), "number"),
    Filter("recurring_amount", _("Monthly recurring amount"), "number"),
)
OPPORTUNITY_SORTS: tuple[Sort, ...] = (
    Sort("name", _("Name"), ("name_key",)),
    Sort("organisation", _("Organisation"), ("organisation__name_key",)),
    Sort("stage", _("Stage"), ("stage",)),
    Sort("close", _("Expected close"), ("expected_close_date",)),
    Sort("created", _("Created"), ("created_at",)),
)
AMOUNT_SORTS: tuple[Sort, ...] = (
    Sort("one_time_amount", _("One-time amount"), ("one_time_amount",)),
    Sort("recurring_amount", _("Monthly recurring amount"), ("recurring_amount",)),
)


def filters_for(viewer: Any) -> tuple[Filter, ...]:
    """Nobody may filter or sort by what they may not see: amounts are left out for them."""
    return OPPORTUNITY_FILTERS + (AMOUNT_FILTERS if access.amounts_visible(viewer) else ())


def sorts_for(viewer: Any) -> tuple[Sort, ...]:
    return OPPORTUNITY_SORTS + (AMOUNT_SORTS if access.amounts_visible(viewer) else ())


def opportunity_list(
    *, viewer: Any, params: Mapping[str, Any]
) -> tuple[QuerySet[Opportunity], ListQuery]:
    filters, sorts = filters_for(viewer), sorts_for(viewer)
    query = listing.parse(params, filters, sorts)
    qs = access.visible(viewer, Opportunity.objects.all())
    qs = listing.apply(qs, query, filters, sorts, default_sort="-created")
    return qs.select_related("organisation", "owner"), query


def organisation_opportunities(*, viewer: Any, organisation: Any) -> QuerySet[Opportunity]:
    return (
        access.visible(viewer, organisation.opportunities.all())
        .select_related("owner")
        .order_by("-created_at")
    )


def pipeline_summary(*, viewer: Any) -> list[dict[str, Any]]:
    """Open deals per stage: count, and amounts when the viewer may see them."""
    qs = access.visible(viewer, Opportunity.objects.filter(stage__in=OPEN_STAGES))
    rows = {
        row["stage"]: row
        for row in qs.values("stage").annotate(
            count=Count("id"), one_time=Sum("one_time_amount"), recurring=Sum("recurring_amount")
        )
    }
    show = access.amounts_visible(viewer)
    return [
        {
            "stage": stage,
            "label": stage.label,
            "count": rows.get(stage, {}).get("count", 0),
            "annual_value": (
                (rows.get(stage, {}).get("one_time") or Decimal(0))
                + 12 * (rows.get(stage, {}).get("recurring") or Decimal(0))
            )
            if show
            else None,
        }
        for stage in OPEN_STAGES
    ]


def _opportunity_hits(viewer: Any, query: SearchQuery, limit: int) -> list[Hit]:
    if (
        query.email
        or query.phone
        or query.siren
        or query.siret
        or query.domain
        or len(query.text) < 3
    ):
        return []
    qs = access.visible(viewer, Opportunity.objects.all()).filter(
        name_key__gte=query.key, name_key__lt=query.key + "\uffff"
    )
    return [
        Hit(
            "opportunity",
            o.name,
            o.get_stage_display(),
            reverse("pipeline:opportunity_detail", args=[o.pk]),
        )
        for o in qs.order_by("name_key", "id")[:limit]
    ]


def register_search() -> None:
    from cible.core import search

    search.register("opportunity", _opportunity_hits)

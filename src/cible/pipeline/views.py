"""Pages of opportunities."""

from __future__ import annotations

from typing import Any

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from cible.core import access
from cible.core.forms import record_form
from cible.core.records import RecordPages, TableColumn
from cible.people.models import Organisation
from cible.people.selectors import product_choices, user_choices
from cible.pipeline import (
    conversion,  # noqa: F401  (registers the lead converter)
    selectors,
    services,
)
from cible.pipeline.models import Opportunity
from cible.pipeline.normalise import OPPORTUNITY_SPECS

FIELDS = [
    "name",
    "organisation",
    "owner",
    "type",
    "stage",
    "probability",
    "one_time_amount",
    "recurring_amount",
    "currency",
    "expected_close_date",
    "closed_on",
    "lost_reason",
    "lost_reason_detail",
    "competitors",
    "description",
]
OpportunityForm = record_form(
    Opportunity,
    FIELDS,
    required=["name", "organisation"],
    choices={"owner": user_choices},
    multiple={"competitors": product_choices},
    lookups={"organisation": ("people:organisation_lookup", Organisation)},
    validate_url=reverse_lazy("pipeline:opportunity_validate"),
    validated=list(OPPORTUNITY_SPECS),
)


def _initial(opportunity: Opportunity) -> dict[str, Any]:
    initial = {
        n: getattr(opportunity, n)
        for n in FIELDS
        if n not in ("organisation", "owner", "competitors")
    }
    initial.update(
        organisation=opportunity.organisation_id,
        owner=opportunity.owner_id or "",
        competitors=[str(pk) for pk in opportunity.competitors.values_list("pk", flat=True)],
    )
    return {k: ("" if v is None else v) for k, v in initial.items()}


def _detail(viewer: Any, opportunity: Opportunity) -> dict[str, Any]:
    return {
        "organisation_visible": access.can(viewer, "view", opportunity.organisation),
        "competitors": opportunity.competitors.all(),
    }


OPPORTUNITY_PAGES = RecordPages(
    model=Opportunity,
    namespace="pipeline",
    prefix="opportunity",
    title=_("Opportunities"),
    list_selector=selectors.opportunity_list,
    filters=selectors.filters_for,
    columns=[
        TableColumn("name", _("Name"), lambda o: o.name, sort="name", link=True),
        TableColumn(
            "organisation",
            _("Organisation"),
            lambda o: o.organisation.display_name,
            sort="organisation",
        ),
        TableColumn("type", _("Type"), lambda o: o.get_type_display()),
        TableColumn("stage", _("Stage"), lambda o: o.get_stage_display(), sort="stage"),
        TableColumn(
            "one_time_amount",
            _("One-time amount"),
            lambda o: o.one_time_amount,
            sort="one_time_amount",
            amount=True,
        ),
        TableColumn(
            "recurring_amount",
            _("Monthly recurring"),
            lambda o: o.recurring_amount,
            sort="recurring_amount",
            amount=True,
        ),
        TableColumn("close", _("Expected close"), lambda o: o.expected_close_date, sort="close"),
        TableColumn("closed_on", _("Closed on"), lambda o: o.closed_on),
        TableColumn("owner", _("Owner"), lambda o: o.owner.get_full_name() if o.owner else ""),
    ],
    form_class=OpportunityForm,
    form_fields=FIELDS,
    create=services.opportunity_create,
    update=services.opportunity_update,
    delete=services.opportunity_delete,
    detail_context=_detail,
    initial=_initial,
    detail_template="pipeline/opportunity_detail.html",
    export_name="opportunities",
    specs=OPPORTUNITY_SPECS,
)


def organisation_section(viewer: Any, organisation: Any) -> dict[str, Any] | None:
    """The opportunities tab of an organisation page (registered with people.hooks)."""
    opportunities = list(
        selectors.organisation_opportunities(viewer=viewer, organisation=organisation)[:200]
    )
    return {
        "key": "opportunities",
        "title": _("Opportunities"),
        "template": "pipeline/_organisation_opportunities.html",
        "opportunities": opportunities,
        "count": len(opportunities),
        "show_amounts": access.amounts_visible(viewer),
    }

"""A qualified lead becomes a deal (SPEC C5: "a converted SQL creates an opportunity").

The opportunity is created through `pipeline.services` (access, validation, audit) and linked to
the lead, and the lead moves to Opportunity, in one transaction: either both happen or neither.
Closing the deal moves the lead on (`services.opportunity_update` → `close_opportunity_lead`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cible.core.audit import Channel, audit_context
from cible.core.errors import ConflictError, FieldError, ValidationFailed
from cible.lifecycle.leads import services as lead_services
from cible.lifecycle.leads.hooks import register_converter
from cible.lifecycle.leads.models import Lead, Stage
from cible.pipeline import services
from cible.pipeline.models import Opportunity


@transaction.atomic
def convert_lead(
    *,
    lead: Lead,
    actor: Any,
    name: str = "",
    one_time_amount: Any = None,
    recurring_amount: Any = None,
    expected_close_date: Any = None,
    owner: Any = None,
    channel: str = Channel.UI,
    version: int | None = None,
) -> Opportunity:
    """Create the opportunity of `lead` (a SQL, or a SAL meeting the agreed SQL definition) and
    move the lead to Opportunity. The deal's organisation is the lead's."""
    if lead.stage not in (Stage.SQL, Stage.SAL):
        message = _(
            "Only a sales qualified lead converts into an opportunity; this one is at %(stage)s."
        ) % {"stage": lead.get_stage_display()}
        raise ValidationFailed(message, errors=[FieldError("to_stage", message)])
    if version is not None and version != lead.version:
        raise ConflictError(
            _("Someone changed this lead while you were converting it; reload it and try again.")
        )
    if lead.organisation_id is None:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "organisation",
                    _("the lead has no organisation; link its contact to one first"),
                )
            ]
        )
    data: dict[str, Any] = {
        "name": (name or "").strip() or f"{lead.organisation} — {lead}",
        "organisation": lead.organisation_id,
    }
    for key, value in (
        ("one_time_amount", one_time_amount),
        ("recurring_amount", recurring_amount),
        ("expected_close_date", expected_close_date),
    ):
        if value not in (None, ""):
            data[key] = value
    data["owner"] = (
        owner if owner not in (None, "") else (lead.owner_id or getattr(actor, "pk", None))
    )
    lead_services.enter_opportunity(lead=lead, actor=actor, channel=channel)
    opportunity = services.opportunity_create(actor=actor, channel=channel, data=data)
    opportunity.lead = lead
    with audit_context(actor=actor, channel=channel):
        opportunity.save(update_fields=["lead"])
    return opportunity


# Leads sits below the pipeline: it reaches the conversion through the converter registered here
# (imported by pipeline.views, so at start-up).
register_converter(convert_lead)

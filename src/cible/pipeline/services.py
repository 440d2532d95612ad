"""Every write to opportunities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.leads.services import close_opportunity_lead
from cible.people.models import Organisation
from cible.people.references import resolve_owner, resolve_products, resolve_visible
from cible.pipeline.models import Opportunity, Stage
from cible.pipeline.normalise import (
    AMOUNT_FIELDS,
    OPPORTUNITY_BLANKS,
    OPPORTUNITY_SPECS,
    clean_opportunity,
    derive_opportunity,
)

REFERENCES = ("organisation", "owner", "competitors")


def _prepare(
    *, opportunity: Opportunity | None, actor: Any, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    refs = {k: v for k, v in data.items() if k in REFERENCES}
    plain = {k: v for k, v in data.items() if k not in REFERENCES and k not in ("id", "version")}
    if not access.amounts_visible(actor) and any(name in plain for name in AMOUNT_FIELDS):
        raise PermissionDenied(_("You may not see or change deal amounts."))
    cleaned = clean_opportunity(plain)
    base = (
        {n: getattr(opportunity, n) for n in OPPORTUNITY_SPECS}
        if opportunity
        else dict(OPPORTUNITY_BLANKS)
    )
    merged = {**base, **cleaned.values}
    stage_changed = opportunity is None or merged["stage"] != opportunity.stage
    cleaned.add_errors(
        derive_opportunity(
            merged, stage_changed=stage_changed, probability_given="probability" in cleaned.values
        )
    )
    resolved: dict[str, Any] = {}
    if "organisation" in refs:
        resolved["organisation"] = resolve_visible(
            Organisation, refs["organisation"], "organisation", actor, cleaned.errors
        )
        if resolved["organisation"] is None and not any(
            e.field == "organisation" for e in cleaned.errors
        ):
            cleaned.errors.append(FieldError("organisation", _("is required")))
    elif opportunity is None:
        cleaned.errors.append(FieldError("organisation", _("is required")))
    if "owner" in refs:
        resolved["owner"] = resolve_owner(refs["owner"], cleaned.errors)
    if "competitors" in refs:
        products = resolve_products(refs["competitors"], cleaned.errors)
        resolved["competitors"] = products
    for error in cleaned.errors:
        if error.field == "installed_products":
            cleaned.errors[cleaned.errors.index(error)] = FieldError("competitors", error.message)
    cleaned.raise_errors()
    return merged, resolved


def _assign(
    opportunity: Opportunity, merged: Mapping[str, Any], resolved: Mapping[str, Any]
) -> None:
    for name, value in merged.items():
        setattr(opportunity, name, value)
    for name, value in resolved.items():
        if name != "competitors":
            setattr(opportunity, name, value)


@transaction.atomic
def opportunity_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Opportunity:
    if access.role_of(actor) == Role.MARKETING or not access.can(actor, "change"):
        raise PermissionDenied(_("You may not create opportunities."))
    merged, resolved = _prepare(opportunity=None, actor=actor, data=data)
    opportunity = Opportunity()
    _assign(opportunity, merged, resolved)
    if opportunity.owner_id is None and getattr(actor, "pk", None):
        opportunity.owner = actor  # the creator owns the deal by default
    with audit_context(actor=actor, channel=channel):
        opportunity.save()
        if resolved.get("competitors"):
            opportunity.competitors.set(resolved["competitors"])
    return opportunity


@transaction.atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Opportunity:
    if not access.can(actor, "change", opportunity):
        raise PermissionDenied(_("You may not change this opportunity."))
    merged, resolved = _prepare(opportunity=opportunity, actor=actor, data=data)
    expected = opportunity.version if expected_version is None else expected_version
    was_closed = opportunity.is_closed
    _assign(opportunity, merged, resolved)
    with audit_context(actor=actor, channel=channel):
        save_versioned(opportunity, expected_version=expected)
        if "competitors" in resolved:
            opportunity.competitors.set(resolved["competitors"])
    if opportunity.is_closed and not was_closed and opportunity.lead_id is not None:
        _close_lead(opportunity, actor=actor, channel=channel)
    return opportunity


def _close_lead(opportunity: Opportunity, *, actor: Any, channel: str) -> None:
    """A deal converted from a lead closed: won makes its lead a customer, lost recycles it
    (seed 003: a lost deal goes back to Marketing)."""
    lead = Lead.objects.select_for_update().filter(pk=opportunity.lead_id or 0).first()
    if lead is not None:
        close_opportunity_lead(
            lead=lead, won=opportunity.stage == Stage.WON, actor=actor, channel=channel
        )


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity, actor: Any, channel: str) -> None:
    if not access.can(actor, "delete", opportunity):
        raise PermissionDenied(_("You may not delete this opportunity."))
    with audit_context(actor=actor, channel=channel):
        opportunity.delete()


__all__ = ["ValidationFailed", "opportunity_create", "opportunity_delete", "opportunity_update"]

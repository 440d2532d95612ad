"""Field specs of campaigns and the rules that tie their fields together (dates, status)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pycountry
from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core import values
from cible.core.cleaning import Cleaned, Normaliser, clean_fields
from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError
from cible.engagement.campaigns.models import CampaignGoal, CampaignStatus, CampaignType
from cible.engagement.campaigns.utm import UTM_FIELDS, utm_value


def currency(raw: Any, field: str = "currency") -> str | None:
    """An ISO 4217 code ("eur" → "EUR"); blank gives None (the default, EUR, then applies)."""
    text = norm.tidy_text(raw, field=field)
    if text is None:
        return None
    code = text.upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise NormalisationError(
            field,
            _("“%(value)s” is not a currency code (e.g. EUR, USD, GBP)") % {"value": text[:60]},
        )
    return code


CAMPAIGN_SPECS: dict[str, Normaliser] = {
    "name": partial(norm.tidy_text, max_length=200, field="name"),
    "type": partial(values.choice, field="type", choices=CampaignType.choices),
    "goal": partial(values.choice, field="goal", choices=CampaignGoal.choices),
    "status": partial(values.choice, field="status", choices=CampaignStatus.choices),
    "description": partial(norm.tidy_text, max_length=10_000, field="description"),
    "starts_on": partial(values.date, field="starts_on"),
    "ends_on": partial(values.date, field="ends_on"),
    "budget": partial(values.amount, field="budget"),
    "actual_cost": partial(values.amount, field="actual_cost"),
    "currency": currency,
    **{name: partial(utm_value, field=name) for name in UTM_FIELDS},
}
CAMPAIGN_BLANKS: dict[str, Any] = {name: "" for name in CAMPAIGN_SPECS}
CAMPAIGN_BLANKS.update(
    goal=CampaignGoal.DEMAND_GENERATION,
    status=CampaignStatus.PLANNED,
    starts_on=None,
    ends_on=None,
    budget=0,
    actual_cost=0,
    currency="EUR",
)
REFERENCES = ("target", "owner")


def clean_campaign(data: Mapping[str, Any]) -> Cleaned:
    return clean_fields(data, CAMPAIGN_SPECS, blank=CAMPAIGN_BLANKS)


def check_campaign(merged: Mapping[str, Any]) -> list[FieldError]:
    """Rules across fields, on the values the campaign would have once saved."""
    errors: list[FieldError] = []
    if not (merged.get("name") or "").strip():
        errors.append(FieldError("name", _("is required")))
    if not merged.get("type"):
        errors.append(FieldError("type", _("is required")))
    starts, ends = merged.get("starts_on"), merged.get("ends_on")
    if starts and ends and ends < starts:
        errors.append(FieldError("ends_on", _("must not be before the start date")))
    return errors

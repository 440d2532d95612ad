"""Field specs of opportunities, and the rules that tie stage, probability and close date."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core import values
from cible.core.cleaning import Cleaned, Normaliser, clean_fields
from cible.core.errors import FieldError
from cible.pipeline.models import DEFAULT_PROBABILITY, LostReason, OpportunityType, Stage

OPPORTUNITY_SPECS: dict[str, Normaliser] = {
    "name": partial(norm.tidy_text, max_length=255, field="name"),
    "type": partial(values.choice, field="type", choices=OpportunityType.choices),
    "one_time_amount": partial(values.amount, field="one_time_amount"),
    "recurring_amount": partial(values.amount, field="recurring_amount"),
    "currency": partial(norm.tidy_text, max_length=3, field="currency"),
    "stage": partial(values.choice, field="stage", choices=Stage.choices),
    "probability": partial(values.whole_number, field="probability", maximum=100),
    "expected_close_date": partial(values.date, field="expected_close_date"),
    "closed_on": partial(values.date, field="closed_on"),
    "lost_reason": partial(values.choice, field="lost_reason", choices=LostReason.choices),
    "lost_reason_detail": partial(norm.tidy_text, max_length=500, field="lost_reason_detail"),
    "description": partial(norm.tidy_text, max_length=10_000, field="description"),
}
OPPORTUNITY_BLANKS: dict[str, Any] = {name: "" for name in OPPORTUNITY_SPECS}
OPPORTUNITY_BLANKS.update(
    one_time_amount=0,
    recurring_amount=0,
    currency="EUR",
    stage=Stage.PROSPECTING,
    type=OpportunityType.NEW_BUSINESS,
    probability=None,
    expected_close_date=None,
    closed_on=None,
)
AMOUNT_FIELDS = ("one_time_amount", "recurring_amount", "currency")


def clean_opportunity(data: Mapping[str, Any]) -> Cleaned:
    return clean_fields(data, OPPORTUNITY_SPECS, blank=OPPORTUNITY_BLANKS)


def derive_opportunity(
    values_: dict[str, Any], *, stage_changed: bool, probability_given: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    values_["name_key"] = norm.search_key(values_.get("name") or "")[:255]
    if not (values_.get("name") or "").strip():
        errors.append(FieldError("name", _("is required")))
    stage = values_.get("stage") or Stage.PROSPECTING
    if values_.get("probability") is None or (stage_changed and not probability_given):
        values_["probability"] = DEFAULT_PROBABILITY[Stage(stage)]
    if stage in (Stage.WON, Stage.LOST):
        if not values_.get("closed_on"):
            values_["closed_on"] = timezone.localdate()
        if stage == Stage.WON:
            values_["probability"] = 100
            values_["lost_reason"] = ""
        else:
            values_["probability"] = 0
            if not values_.get("lost_reason"):
                errors.append(FieldError("lost_reason", _("is required when a deal is lost")))
    else:
        values_["closed_on"] = None
        values_["lost_reason"] = ""
    return errors

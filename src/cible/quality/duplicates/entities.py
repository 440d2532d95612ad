"""What the duplicates app knows about each kind of record it de-duplicates.

Organisations and contacts differ in the fields compared side by side, how a merged value is
chosen by default, and which people service writes them; everything else (detection runs,
pairs, merges, undo) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cible.people import services as people_services
from cible.people.models import Consent, Contact, Organisation


@dataclass(frozen=True)
class MergeField:
    """A row of the side-by-side comparison: one field whose surviving value is chosen.

    `rule` sets the default choice: "complete" (a filled value beats an empty one, then the
    more recently updated record wins), "restrictive" (an opt-out or withdrawn consent always
    survives: a merge must never re-subscribe anyone), or "follows" (taken from the same record
    as the field named in `follows`, e.g. the domain goes with the website).
    """

    name: str
    rule: str = "complete"
    follows: str = ""
    reference: bool = False


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[Model]
    label: str | Promise
    label_plural: str | Promise
    detail_url: str
    fields: tuple[MergeField, ...]
    update: Callable[..., Any]
    union_m2m: tuple[str, ...] = ()  # many-to-many fields whose links are pooled
    external_key_entities: tuple[str, ...] = ()  # `imports.ExternalKey.entity` values

    def field(self, name: str) -> MergeField:
        return next(f for f in self.fields if f.name == name)

    def verbose(self, name: str) -> str:
        field: Any = self.model._meta.get_field(name)
        return str(field.verbose_name)


ORGANISATION = EntitySpec(
    name="organisation",
    model=Organisation,
    label=_("organisation"),
    label_plural=_("organisations"),
    detail_url="people:organisation_detail",
    fields=(
        MergeField("legal_name"),
        MergeField("trade_name"),
        MergeField("siren"),
        MergeField("siret", rule="follows", follows="siren"),
        MergeField("vat_number"),
        MergeField("website"),
        MergeField("domain", rule="follows", follows="website"),
        MergeField("phone"),
        MergeField("street"),
        MergeField("postal_code", rule="follows", follows="street"),
        MergeField("city", rule="follows", follows="street"),
        MergeField("region", rule="follows", follows="street"),
        MergeField("country", rule="follows", follows="street"),
        MergeField("naf_code"),
        MergeField("headcount"),
        MergeField("annual_revenue"),
        MergeField("currency", rule="follows", follows="annual_revenue"),
        MergeField("sales_team_size"),
        MergeField("status"),
        MergeField("tier"),
        MergeField("source"),
        MergeField("description"),
        MergeField("parent", reference=True),
        MergeField("owner", reference=True),
        MergeField("last_verified_at"),
    ),
    update=people_services.organisation_update,
    union_m2m=("installed_products",),
    external_key_entities=("organisations", "organisation"),
)

CONTACT = EntitySpec(
    name="contact",
    model=Contact,
    label=_("contact"),
    label_plural=_("contacts"),
    detail_url="people:contact_detail",
    fields=(
        MergeField("first_name"),
        MergeField("last_name"),
        MergeField("email"),
        MergeField("secondary_email"),
        MergeField("phone"),
        MergeField("mobile"),
        MergeField("job_title"),
        MergeField("function"),
        MergeField("seniority"),
        MergeField("buying_role"),
        MergeField("organisation", reference=True),
        MergeField("reports_to", reference=True),
        MergeField("language"),
        MergeField("linkedin_url"),
        MergeField("email_consent", rule="restrictive"),
        MergeField("email_opt_out", rule="restrictive"),
        MergeField("phone_opt_out", rule="restrictive"),
        MergeField("lifecycle_stage"),
        MergeField("source"),
        MergeField("has_left"),
        MergeField("owner", reference=True),
        MergeField("last_verified_at"),
    ),
    update=people_services.contact_update,
    external_key_entities=("contacts", "contact"),
)

ENTITIES: dict[str, EntitySpec] = {ORGANISATION.name: ORGANISATION, CONTACT.name: CONTACT}

# Which value of a restrictive field wins: the more restrictive one.
RESTRICTIVE_ORDER: dict[str, list[Any]] = {
    "email_consent": [Consent.WITHDRAWN, Consent.GRANTED, Consent.UNKNOWN],
    "email_opt_out": [True, False],
    "phone_opt_out": [True, False],
}


def spec_for(entity: str) -> EntitySpec:
    try:
        return ENTITIES[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}: one of {', '.join(ENTITIES)}") from None

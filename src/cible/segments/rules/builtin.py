"""The organisation's and the contact's own fields, declared from people's models.

Labels and choices come from the models (so they follow their translations); which text fields
are compared exactly, and through which normaliser, follows `people.normalise`: a value typed in a
rule goes through the same normaliser as a value typed in a form, so "france", "France" and "FR"
all find the organisations stored with country "FR".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Field
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cible.core import nace
from cible.core import normalisers as norm
from cible.people.models import Contact, Organisation
from cible.segments.rules.fields import Kind, RuleField


def _language() -> str:
    return (get_language() or "fr")[:2]


def _upper(value: str) -> str:
    return " ".join(value.split()).upper()


def _lower(value: str) -> str:
    return " ".join(value.split()).lower()


def _compact_upper(value: str) -> str:
    return "".join(value.split()).upper()


def _required(function: Any, field: str) -> Any:
    """A normaliser that must give a value (a rule value is never blank)."""

    def normalise(value: str) -> str:
        result = function(value, field=field)
        if not result:
            raise norm.NormalisationError(field, str(_("a value is required")))
        return str(result)

    return normalise


def _naf(value: str) -> str:
    return nace.parse_naf(value).code


def _region(value: str) -> str:
    """A French region code from its code or its name ("Île-de-France" → "FR-IDF")."""
    wanted = norm.search_key(value)
    for code, label in norm.french_region_choices():
        if wanted in (norm.search_key(code), norm.search_key(label)):
            return code
    return _upper(value)


def _phone(value: str) -> str:
    return _required(norm.phone, "phone")(value)


def _model_field(model: Any, name: str) -> Field[Any, Any]:
    return model._meta.get_field(name)  # type: ignore[no-any-return]


def _from_model(
    model: Any,
    level: Any,
    name: str,
    kind: Kind,
    *,
    lookup: str | None = None,
    label: Any = None,
    **options: Any,
) -> RuleField:
    column = _model_field(model, name)
    if kind == "choice" and "choices" not in options:
        options["choices"] = column.choices
    if kind == "number" and "decimal_places" not in options:
        places = getattr(column, "decimal_places", None) or 0
        options["decimal_places"] = places
        if places:
            digits = column.max_digits  # type: ignore[attr-defined]
            limit = Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)
            options.setdefault("minimum", -limit)
            options.setdefault("maximum", limit)
    return RuleField(
        name=name,
        label=label if label is not None else column.verbose_name,
        kind=kind,
        level=level,
        lookup=lookup or name,
        **options,
    )


def organisation_fields() -> list[RuleField]:
    org = Organisation

    def field(name: str, kind: Kind, **options: Any) -> RuleField:
        return _from_model(org, "organisation", name, kind, **options)

    return [
        RuleField(
            name="name",
            label=_("name"),
            kind="text",
            level="organisation",
            lookup="name_key",
            mode="exact",
            normalise=norm.search_key,
            fragment=norm.search_key,
            help=_("The trade name, or the legal name; case, accents and punctuation ignored."),
        ),
        field("legal_name", "text"),
        field("trade_name", "text"),
        field(
            "siren",
            "text",
            mode="exact",
            normalise=_required(norm.siren, "siren"),
            fragment=_compact_upper,
        ),
        field(
            "siret",
            "text",
            mode="exact",
            normalise=_required(norm.siret, "siret"),
            fragment=_compact_upper,
        ),
        field(
            "vat_number",
            "text",
            mode="exact",
            normalise=_required(norm.vat, "vat_number"),
            fragment=_compact_upper,
        ),
        field("website", "text"),
        field(
            "domain",
            "text",
            mode="exact",
            normalise=_required(norm.domain, "domain"),
            fragment=_lower,
        ),
        field("phone", "text", mode="exact", normalise=_phone, fragment=_compact_upper),
        field("street", "text"),
        field("postal_code", "text", mode="exact", normalise=_upper, fragment=_upper),
        field("city", "text"),
        field(
            "region",
            "choice",
            choices=norm.french_region_choices,
            normalise=_region,
            help=_("The French region (ISO 3166-2), found from the postal code."),
        ),
        field(
            "country",
            "choice",
            choices=norm.country_choices,
            normalise=_required(norm.country, "country"),
        ),
        field("naf_code", "text", mode="exact", normalise=_naf, fragment=_compact_upper),
        field(
            "naf_division",
            "choice",
            choices=lambda: nace.division_choices(_language()),
            normalise=_compact_upper,
        ),
        field(
            "naf_section",
            "choice",
            choices=lambda: nace.section_choices(_language()),
            normalise=_compact_upper,
        ),
        field("headcount", "number", minimum=Decimal(-(2**31)), maximum=Decimal(2**31 - 1)),
        field("headcount_band", "choice"),
        field("size_class", "choice", normalise=_lower),
        field("annual_revenue", "number"),
        field("currency", "text", mode="exact", normalise=_upper, fragment=_upper),
        field("sales_team_size", "number"),
        field("status", "choice"),
        field("tier", "choice"),
        field("source", "choice"),
        field("description", "text"),
        field("owner", "reference", help=_("The owner's user id.")),
        field("created_at", "datetime"),
        field("last_verified_at", "datetime"),
        RuleField(
            name="installed_products",
            label=_("installed products"),
            kind="list",
            level="organisation",
            lookup="installed_products__name",
            relation="installed_products",
            help=_("The tools the organisation runs, by name (seed 002: the installed CRM)."),
        ),
        RuleField(
            name="installed_product_categories",
            label=_("installed product categories"),
            kind="list",
            level="organisation",
            lookup="installed_products__category",
            relation="installed_products",
            help=_("The categories of the tools it runs (CRM, ERP …): “none of CRM” = no CRM."),
        ),
    ]


def contact_fields() -> list[RuleField]:
    contact = Contact

    def field(name: str, kind: Kind, **options: Any) -> RuleField:
        return _from_model(contact, "contact", name, kind, **options)

    return [
        RuleField(
            name="name",
            label=_("name"),
            kind="text",
            level="contact",
            lookup="name_key",
            mode="exact",
            normalise=norm.search_key,
            fragment=norm.search_key,
            help=_("Last name then first name; case, accents and punctuation ignored."),
        ),
        field("first_name", "text"),
        field("last_name", "text"),
        field(
            "email",
            "text",
            lookup="email_key",
            mode="exact",
            normalise=_required(norm.email, "email"),
            fragment=_lower,
        ),
        field("phone", "text", mode="exact", normalise=_phone, fragment=_compact_upper),
        field("mobile", "text", mode="exact", normalise=_phone, fragment=_compact_upper),
        field("job_title", "text"),
        field("function", "choice"),
        field("seniority", "choice"),
        field("buying_role", "choice"),
        field("language", "text", mode="exact", normalise=_lower, fragment=_lower),
        field("email_consent", "choice"),
        field("email_opt_out", "boolean"),
        field("phone_opt_out", "boolean"),
        field("lifecycle_stage", "choice"),
        field("source", "choice"),
        field("has_left", "boolean"),
        field("owner", "reference", help=_("The owner's user id.")),
        field("created_at", "datetime"),
        field("last_verified_at", "datetime"),
        field("email_bounced_at", "datetime"),
    ]

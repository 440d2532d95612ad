"""Field specs of organisations and contacts: which normaliser each writable field goes through,
and the values derived from others (search keys, size class, sector, region, domain)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from cible.core import nace, values
from cible.core import normalisers as norm
from cible.core.cleaning import Cleaned, Normaliser, clean_fields
from cible.core.errors import FieldError
from cible.people.models import (
    Consent,
    ContactBuyingRole,
    ContactFunction,
    HeadcountBand,
    LifecycleStage,
    OrganisationStatus,
    Seniority,
    SizeClass,
    Source,
    Tier,
)


def _text(max_length: int, field: str) -> Normaliser:
    return partial(norm.tidy_text, max_length=max_length, field=field)


def _choice(field: str, choices: Any) -> Normaliser:
    return partial(values.choice, field=field, choices=choices)


def _naf(raw: Any) -> str | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return nace.parse_naf(str(raw)).code
    except nace.NaceCodeInvalid as error:
        raise norm.NormalisationError("naf_code", str(error)) from None


def _website(raw: Any, field: str = "website") -> str | None:
    """The full address, refused when it cannot be stored (the column holds 255 characters)."""
    url, _domain = norm.website(raw, field=field)
    return norm.tidy_text(url, max_length=255, field=field)


def _long_text(field: str) -> Normaliser:
    def clean(raw: Any) -> str | None:
        if raw is None:
            return None
        # Keep line breaks and tabs; drop other control characters (PostgreSQL refuses NUL).
        text = "".join(c for c in str(raw) if c in "\n\t" or c >= " ").strip()
        if len(text) > 10_000:
            raise norm.NormalisationError(
                field,
                _("is too long (%(length)s characters, at most %(max)s)")
                % {"length": len(text), "max": 10_000},
            )
        return text

    return clean


ORGANISATION_SPECS: dict[str, Normaliser] = {
    "legal_name": partial(norm.organisation_name, field="legal_name"),
    "trade_name": partial(norm.organisation_name, field="trade_name"),
    "siren": norm.siren,
    "siret": norm.siret,
    "vat_number": norm.vat,
    "website": _website,
    "domain": norm.domain,
    "phone": partial(norm.phone, field="phone"),
    "street": _text(255, "street"),
    "postal_code": _text(12, "postal_code"),
    "city": _text(100, "city"),
    "region": _text(40, "region"),
    "country": norm.country,
    "naf_code": _naf,
    "headcount": partial(values.whole_number, field="headcount", maximum=5_000_000),
    "headcount_band": _choice("headcount_band", HeadcountBand.choices),
    "annual_revenue": partial(values.amount, field="annual_revenue", max_digits=16),
    "currency": _text(3, "currency"),
    "sales_team_size": partial(values.whole_number, field="sales_team_size", maximum=1_000_000),
    "status": _choice("status", OrganisationStatus.choices),
    "tier": _choice("tier", Tier.choices),
    "source": _choice("source", Source.choices),
    "description": _long_text("description"),
    "last_verified_at": partial(values.moment, field="last_verified_at"),
}
ORGANISATION_BLANKS: dict[str, Any] = {
    name: None for name in ("headcount", "annual_revenue", "sales_team_size", "last_verified_at")
}
ORGANISATION_BLANKS.update(
    {name: "" for name in ORGANISATION_SPECS if name not in ORGANISATION_BLANKS}
)
ORGANISATION_BLANKS["currency"] = "EUR"
# Plain strings, not the choices' enum members: a dict holding only strings, numbers and None
# is not tracked by the cyclic garbage collector, and an import holds a million of them.
ORGANISATION_BLANKS["status"] = OrganisationStatus.SUSPECT.value


_BAND_LIMITS = (
    (0, HeadcountBand.B0),
    (9, HeadcountBand.B1_9),
    (49, HeadcountBand.B10_49),
    (249, HeadcountBand.B50_249),
    (499, HeadcountBand.B250_499),
    (999, HeadcountBand.B500_999),
    (4999, HeadcountBand.B1000_4999),
)


def band_for(headcount: int) -> str:
    """The headcount band's value (a plain string, like every derived value: see above)."""
    for limit, band in _BAND_LIMITS:
        if headcount <= limit:
            return band.value
    return HeadcountBand.B5000.value


_BAND_SIZE: dict[str, str] = {
    band.value: size.value
    for band, size in (
        (HeadcountBand.B0, SizeClass.TPE),
        (HeadcountBand.B1_9, SizeClass.TPE),
        (HeadcountBand.B10_49, SizeClass.PME),
        (HeadcountBand.B50_249, SizeClass.PME),
        (HeadcountBand.B250_499, SizeClass.ETI),
        (HeadcountBand.B500_999, SizeClass.ETI),
        (HeadcountBand.B1000_4999, SizeClass.ETI),
        (HeadcountBand.B5000, SizeClass.GE),
    )
}


def size_class_for(band: str) -> str:
    return _BAND_SIZE.get(band, "")


def derive_organisation(values_: dict[str, Any]) -> list[FieldError]:
    """Fill the derived fields of a complete organisation value dict in place."""
    errors: list[FieldError] = []
    name = values_.get("trade_name") or values_.get("legal_name") or ""
    values_["name_key"] = norm.search_key(name)[:255]
    if values_.get("website") and not values_.get("domain"):
        values_["domain"] = norm.domain(values_["website"]) or ""
    if values_.get("headcount") is not None:
        values_["headcount_band"] = band_for(values_["headcount"])
    values_["size_class"] = size_class_for(values_.get("headcount_band") or "")
    code = values_.get("naf_code") or ""
    values_["naf_division"] = code[:2]
    values_["naf_section"] = nace.section_for(code) if code else ""
    country = values_.get("country") or ""
    postal = values_.get("postal_code") or ""
    if postal:
        try:
            values_["postal_code"] = norm.postal_code(postal, country or "FR") or ""
        except norm.NormalisationError as error:
            errors.append(FieldError("postal_code", error.message))
        if (country in ("", "FR")) and not values_.get("region"):
            values_["region"] = norm.french_region_from_postal_code(values_["postal_code"]) or ""
    siret = values_.get("siret") or ""
    if siret and not values_.get("siren"):
        values_["siren"] = siret[:9]
    elif siret and values_.get("siren") and siret[:9] != values_["siren"]:
        errors.append(
            FieldError("siret", _("does not belong to the SIREN given (its first 9 digits differ)"))
        )
    if not (values_.get("legal_name") or "").strip():
        errors.append(FieldError("legal_name", _("is required")))
    return errors


def clean_organisation(data: Mapping[str, Any]) -> Cleaned:
    return clean_fields(data, ORGANISATION_SPECS, blank=ORGANISATION_BLANKS)


CONTACT_SPECS: dict[str, Normaliser] = {
    "first_name": partial(norm.person_name, field="first_name"),
    "last_name": partial(norm.person_name, field="last_name"),
    "email": partial(norm.email, field="email"),
    "secondary_email": partial(norm.email, field="secondary_email"),
    "phone": partial(norm.phone, field="phone"),
    "mobile": partial(norm.phone, field="mobile"),
    "job_title": _text(150, "job_title"),
    "function": _choice("function", ContactFunction.choices),
    "seniority": _choice("seniority", Seniority.choices),
    "buying_role": _choice("buying_role", ContactBuyingRole.choices),
    "language": _text(5, "language"),
    "linkedin_url": partial(_website, field="linkedin_url"),
    "email_consent": _choice("email_consent", Consent.choices),
    "email_opt_out": partial(values.boolean, field="email_opt_out"),
    "phone_opt_out": partial(values.boolean, field="phone_opt_out"),
    "lifecycle_stage": _choice("lifecycle_stage", LifecycleStage.choices),
    "source": _choice("source", Source.choices),
    "has_left": partial(values.boolean, field="has_left"),
    "last_verified_at": partial(values.moment, field="last_verified_at"),
}
CONTACT_BLANKS: dict[str, Any] = {name: "" for name in CONTACT_SPECS}
CONTACT_BLANKS.update(
    email_opt_out=False,
    phone_opt_out=False,
    has_left=False,
    last_verified_at=None,
    email_consent=Consent.UNKNOWN,
    lifecycle_stage=LifecycleStage.SUSPECT,
)


def clean_contact(data: Mapping[str, Any]) -> Cleaned:
    return clean_fields(data, CONTACT_SPECS, blank=CONTACT_BLANKS)


def derive_contact(values_: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not (values_.get("last_name") or "").strip():
        errors.append(FieldError("last_name", _("is required")))
    values_["name_key"] = norm.search_key(
        f"{values_.get('last_name', '')} {values_.get('first_name', '')}"
    )[:255]
    values_["email_key"] = (values_.get("email") or "").lower()
    return errors

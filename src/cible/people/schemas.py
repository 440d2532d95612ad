"""API shapes of organisations and contacts.

Inputs only check the JSON shape: unknown fields are refused, and values the normalisers parse
("01 23 45 67 89", "1 200", "732 829 320") are typed loosely; the services do the validation and
name the field of every problem. Outputs list every field, references as ids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core import normalisers as norm
from cible.core.api_kit import Id, InputSchema, ListParams, Loose, LooseBool
from cible.people.models import Contact, Organisation

# --- organisations ------------------------------------------------------------------------------


class OrganisationIn(InputSchema):
    legal_name: str | None = None
    trade_name: str | None = None
    siren: Loose = None
    siret: Loose = None
    vat_number: str | None = None
    website: str | None = None
    domain: str | None = None
    phone: Loose = None
    street: str | None = None
    postal_code: Loose = None
    city: str | None = None
    region: str | None = Field(None, description="ISO 3166-2 code, e.g. FR-IDF.")
    country: str | None = Field(None, description="ISO 3166-1 code or name, e.g. FR or France.")
    naf_code: str | None = None
    headcount: Loose = None
    headcount_band: str | None = None
    annual_revenue: Loose = None
    currency: str | None = None
    sales_team_size: Loose = None
    status: str | None = None
    tier: str | None = None
    source: str | None = None
    description: str | None = None
    last_verified_at: dt.datetime | None = None
    owner: Id | None = Field(None, description="User id.")
    parent: Id | None = Field(None, description="Organisation id.")
    installed_products: list[Loose] | None = Field(None, description="Product names or ids.")


class OrganisationCreateIn(OrganisationIn):
    allow_duplicate: bool = Field(
        False,
        description="Create it even if it looks like an organisation you have (else 409 with "
        "the `candidates`).",
    )


class OrganisationPatch(OrganisationIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class OrganisationBulkItem(OrganisationIn):
    id: Id | None = Field(None, description="Update this organisation.")
    version: int | None = Field(None, description="When given, a newer stored version is refused.")


class OrganisationBulkIn(InputSchema):
    items: list[OrganisationBulkItem] = Field(..., max_length=1000)


class OrganisationOut(Schema):
    id: int
    version: int
    legal_name: str
    trade_name: str
    display_name: str
    siren: str
    siret: str
    vat_number: str
    website: str
    domain: str
    phone: str
    street: str
    postal_code: str
    city: str
    region: str
    region_label: str
    country: str
    country_label: str
    naf_code: str
    naf_section: str
    sector_label: str
    headcount: int | None
    headcount_band: str
    size_class: str
    annual_revenue: Decimal | None
    currency: str
    sales_team_size: int | None
    installed_products: list[str]
    parent: int | None
    owner: int | None
    status: str
    tier: str
    source: str
    description: str
    last_verified_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None
    count: int | None = None


class OrganisationQuery(ListParams):
    """The filters of the organisations list page, under the same names."""

    name: str | None = Field(None, description="Name starts with.")
    legal_name: str | None = None
    siren: str | None = None
    siret: str | None = None
    vat_number: str | None = None
    domain: str | None = None
    phone: str | None = None
    postal_code: str | None = Field(None, description="Postal code starts with.")
    city: str | None = None
    region: str | None = None
    country: str | None = None
    naf_section: str | None = None
    naf_code: str | None = None
    size_class: str | None = None
    headcount_band: str | None = None
    headcount_min: str | None = None
    headcount_max: str | None = None
    annual_revenue_min: str | None = None
    annual_revenue_max: str | None = None
    sales_team_size_min: str | None = None
    sales_team_size_max: str | None = None
    installed_product: str | None = Field(None, description="Product id.")
    parent: str | None = Field(None, description="Organisation id, or 'none'.")
    owner: str | None = Field(None, description="User id, or 'none'.")
    status: str | None = None
    tier: str | None = None
    source: str | None = None
    created_at_min: str | None = None
    created_at_max: str | None = None
    last_verified_at_min: str | None = None
    last_verified_at_max: str | None = None


def organisation_out(organisation: Organisation) -> dict[str, Any]:
    """Expects `installed_products` prefetched (lists do it) to avoid a query per row."""
    o = organisation
    return {
        "id": o.pk,
        "version": o.version,
        "legal_name": o.legal_name,
        "trade_name": o.trade_name,
        "display_name": o.display_name,
        "siren": o.siren,
        "siret": o.siret,
        "vat_number": o.vat_number,
        "website": o.website,
        "domain": o.domain,
        "phone": o.phone,
        "street": o.street,
        "postal_code": o.postal_code,
        "city": o.city,
        "region": o.region,
        "region_label": o.region_label,
        "country": o.country,
        "country_label": norm.country_label(o.country) if o.country else "",
        "naf_code": o.naf_code,
        "naf_section": o.naf_section,
        "sector_label": o.sector_label(),
        "headcount": o.headcount,
        "headcount_band": o.headcount_band,
        "size_class": o.size_class,
        "annual_revenue": o.annual_revenue,
        "currency": o.currency,
        "sales_team_size": o.sales_team_size,
        "installed_products": sorted(p.name for p in o.installed_products.all()),
        "parent": o.parent_id,
        "owner": o.owner_id,
        "status": o.status,
        "tier": o.tier,
        "source": o.source,
        "description": o.description,
        "last_verified_at": o.last_verified_at,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


# --- contacts -----------------------------------------------------------------------------------


class ContactIn(InputSchema):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    secondary_email: str | None = None
    phone: Loose = None
    mobile: Loose = None
    job_title: str | None = None
    function: str | None = None
    seniority: str | None = None
    buying_role: str | None = None
    language: str | None = None
    linkedin_url: str | None = None
    email_consent: str | None = None
    email_opt_out: LooseBool = None
    phone_opt_out: LooseBool = None
    lifecycle_stage: str | None = None
    source: str | None = None
    has_left: LooseBool = None
    last_verified_at: dt.datetime | None = None
    owner: Id | None = Field(None, description="User id.")
    organisation: Id | None = Field(None, description="Organisation id.")
    reports_to: Id | None = Field(None, description="Contact id.")


class ContactCreateIn(ContactIn):
    allow_duplicate: bool = Field(
        False,
        description="Create it even if it looks like a contact you have (else 409 with the "
        "`candidates`).",
    )


class ContactPatch(ContactIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class ContactBulkItem(ContactIn):
    id: Id | None = Field(None, description="Update this contact.")
    version: int | None = Field(None, description="When given, a newer stored version is refused.")


class ContactBulkIn(InputSchema):
    items: list[ContactBulkItem] = Field(..., max_length=1000)


class ContactOut(Schema):
    id: int
    version: int
    first_name: str
    last_name: str
    full_name: str
    email: str
    secondary_email: str
    phone: str
    mobile: str
    job_title: str
    function: str
    seniority: str
    buying_role: str
    organisation: int | None
    reports_to: int | None
    language: str
    linkedin_url: str
    email_consent: str
    email_opt_out: bool
    phone_opt_out: bool
    opted_out_at: dt.datetime | None
    owner: int | None
    lifecycle_stage: str
    source: str
    has_left: bool
    last_verified_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None
    count: int | None = None


class ContactQuery(ListParams):
    """The filters of the contacts list page, under the same names."""

    name: str | None = Field(None, description="Last name starts with.")
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None
    function: str | None = None
    seniority: str | None = None
    buying_role: str | None = None
    organisation: str | None = Field(None, description="Organisation id, or 'none'.")
    organisation_name: str | None = None
    lifecycle_stage: str | None = None
    email_consent: str | None = None
    email_opt_out: str | None = None
    has_left: str | None = None
    source: str | None = None
    owner: str | None = Field(None, description="User id, or 'none'.")
    created_at_min: str | None = None
    created_at_max: str | None = None
    last_verified_at_min: str | None = None
    last_verified_at_max: str | None = None


def contact_out(contact: Contact) -> dict[str, Any]:
    c = contact
    return {
        "id": c.pk,
        "version": c.version,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "full_name": c.full_name,
        "email": c.email,
        "secondary_email": c.secondary_email,
        "phone": c.phone,
        "mobile": c.mobile,
        "job_title": c.job_title,
        "function": c.function,
        "seniority": c.seniority,
        "buying_role": c.buying_role,
        "organisation": c.organisation_id,
        "reports_to": c.reports_to_id,
        "language": c.language,
        "linkedin_url": c.linkedin_url,
        "email_consent": c.email_consent,
        "email_opt_out": c.email_opt_out,
        "phone_opt_out": c.phone_opt_out,
        "opted_out_at": c.opted_out_at,
        "owner": c.owner_id,
        "lifecycle_stage": c.lifecycle_stage,
        "source": c.source,
        "has_left": c.has_left,
        "last_verified_at": c.last_verified_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }

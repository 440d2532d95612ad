"""Who sent a form: the contact and organisation Cible already knows, or new ones — never a
second record for a known email or a known domain (SPEC C2 "prevention of new duplicates").

A visitor is nobody's user, so these writes are the system's (audit actor: none). They go
through people's normalisers and derived fields, like every other way in, but not through
people's create services: those make the acting user the owner, and an inbound contact
belongs to nobody until routing assigns it. What Sales typed is never overwritten: a match only
fills fields that are empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cible.core.audit import Channel, audit_context
from cible.core.concurrency import save_versioned
from cible.core.normalisers import search_key
from cible.people.models import Contact, Organisation, Source
from cible.people.normalise import (
    CONTACT_BLANKS,
    ORGANISATION_BLANKS,
    derive_contact,
    derive_organisation,
)
from cible.quality.duplicates.keys import GENERIC_DOMAINS

CHANNEL = Channel.API  # a public form is a way in from outside, like the API
CONTACT_FIELDS = ("first_name", "last_name", "phone", "job_title", "function")


@dataclass(frozen=True)
class Match:
    record: Any
    created: bool
    how: str  # stored on the submission: "email", "domain example.com", "name", "new"


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def corporate_domain(domain: str | None) -> str | None:
    """A domain that names a company: not gmail.com, outlook.fr and the like."""
    return domain if domain and domain not in GENERIC_DOMAINS else None


def _stand_in_name(contact: Contact) -> bool:
    """The last name a form without a name field gave the contact: the email's local part."""
    return not contact.first_name and contact.last_name == contact.email.split("@", 1)[0][:100]


def organisation_match(values: dict[str, Any]) -> Match | None:
    """The organisation of the contact Cible knows by this email; else the one of the sender's
    email domain or company website, else of the company name; created when the sender named a
    company Cible does not know."""
    known = (
        Contact.objects.filter(
            email_key=values["email"], anonymised_at__isnull=True, organisation__isnull=False
        )
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    if known is not None and known.organisation is not None:
        return Match(known.organisation, False, "contact's organisation")
    website = values.get("company_website") or {}
    domains = [
        d
        for d in (
            corporate_domain(website.get("domain")),
            corporate_domain(email_domain(values["email"])),
        )
        if d
    ]
    for domain in dict.fromkeys(domains):
        found = Organisation.objects.filter(domain=domain).order_by("pk").first()
        if found is not None:
            fill_organisation(found, values, domains)
            return Match(found, False, f"domain {domain}")
    company = values.get("company")
    if not company:
        return None
    found = Organisation.objects.filter(name_key=search_key(company)[:255]).order_by("pk").first()
    if found is not None:
        fill_organisation(found, values, domains)
        return Match(found, False, "name")
    merged = dict(ORGANISATION_BLANKS)
    merged.update(
        legal_name=company,
        website=website.get("url") or "",
        domain=domains[0] if domains else "",
        city=values.get("city") or "",
        country=values.get("country") or "",
        source=Source.WEBSITE,
    )
    derive_organisation(merged)  # the name is present: no error left to report
    organisation = Organisation(**merged)
    with audit_context(actor=None, channel=CHANNEL):
        organisation.save()
    return Match(organisation, True, "new")


def fill_organisation(
    organisation: Organisation, values: dict[str, Any], domains: list[str]
) -> None:
    """Fill the organisation's empty website, domain, city and country from the form."""
    website = values.get("company_website") or {}
    wanted = {
        "website": website.get("url") or "",
        "domain": domains[0] if domains else "",
        "city": values.get("city") or "",
        "country": values.get("country") or "",
    }
    changed = False
    for name, value in wanted.items():
        if value and not getattr(organisation, name):
            setattr(organisation, name, value)
            changed = True
    if changed:
        with audit_context(actor=None, channel=CHANNEL):
            save_versioned(organisation)


def contact_match(
    values: dict[str, Any], organisation: Organisation | None, language: str
) -> Match:
    """The live contact with this email (case and spaces do not matter: emails are stored
    normalised), its empty fields filled; or a new, unowned contact."""
    email = values["email"]
    found = (
        Contact.objects.select_for_update()
        .filter(email_key=email.lower(), anonymised_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if found is not None:
        fill_contact(found, values, organisation, language)
        return Match(found, False, "email")
    merged = dict(CONTACT_BLANKS)
    merged.update({name: values[name] for name in CONTACT_FIELDS if values.get(name)})
    merged.update(email=email, language=language, source=Source.WEBSITE)
    if not merged.get("last_name"):
        merged["last_name"] = email.split("@", 1)[0][:100]
    derive_contact(merged)
    contact = Contact(**merged, organisation=organisation)
    with audit_context(actor=None, channel=CHANNEL):
        contact.save()
    return Match(contact, True, "new")


def fill_contact(
    contact: Contact, values: dict[str, Any], organisation: Organisation | None, language: str
) -> None:
    changed = False
    stand_in = _stand_in_name(contact)
    for name in CONTACT_FIELDS:
        value = values.get(name)
        if value and (not getattr(contact, name) or (name == "last_name" and stand_in)):
            setattr(contact, name, value)
            changed = True
    if organisation is not None and contact.organisation_id is None:
        contact.organisation = organisation
        changed = True
    if not contact.language:
        contact.language, changed = language, True
    if changed:
        merged = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
        }
        derive_contact(merged)
        contact.name_key = merged["name_key"]
        with audit_context(actor=None, channel=CHANNEL):
            save_versioned(contact)

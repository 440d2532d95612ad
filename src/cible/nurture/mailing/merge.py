"""What a template speaks about: the contact, their organisation and its segments, read for a
whole batch of recipients in three queries, and the compiled templates, cached per version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation

from cible.core import nace
from cible.core.normalisers import region_label
from cible.nurture.mailing.models import EmailTemplate
from cible.nurture.mailing.templating import Compiled, axis_key, compile_text
from cible.people.models import Consent, Contact
from cible.segments.axes.models import Axis, Membership

LANGUAGES = ("fr", "en")
TEXT_FIELDS = ("subject_fr", "body_fr", "subject_en", "body_en")
_CHUNK = 2000

_COLUMNS = (
    "id",
    "email",
    "language",
    "first_name",
    "last_name",
    "job_title",
    "email_opt_out",
    "email_bounced_at",
    "email_consent",
    "anonymised_at",
    "organisation_id",
    "organisation__trade_name",
    "organisation__legal_name",
    "organisation__city",
    "organisation__region",
    "organisation__website",
    "organisation__naf_code",
    "organisation__size_class",
    "organisation__headcount",
)


@dataclass
class Recipient:
    """A contact as the sender needs it: address, suppression flags and merge values."""

    id: int
    email: str
    language: str
    first_name: str
    last_name: str
    job_title: str
    email_opt_out: bool
    email_bounced_at: Any
    email_consent: str
    anonymised_at: Any
    organisation_id: int | None
    trade_name: str | None
    legal_name: str | None
    city: str | None
    region: str | None
    website: str | None
    naf_code: str | None
    size_class: str | None
    headcount: int | None
    segments: dict[str, list[str]] = field(default_factory=dict)


def suppression_reason(
    *, email: str, opt_out: bool, bounced_at: Any, consent: str, anonymised_at: Any
) -> str:
    """Why nobody may email this contact ("" when they may)."""
    if anonymised_at is not None:
        return "anonymised"
    if opt_out:
        return "opted_out"
    if consent == Consent.WITHDRAWN:
        return "consent_withdrawn"
    if bounced_at is not None:
        return "bounced"
    if not email:
        return "no_email"
    return ""


def axis_keys() -> list[str]:
    return [
        axis_key(code)
        for code in Axis.objects.filter(is_active=True).values_list("code", flat=True)
    ]


def recipients(contact_ids: Iterable[int]) -> dict[int, Recipient]:
    """The recipients of `contact_ids`, with their organisations' segments per axis key."""
    ids = list(contact_ids)
    found: dict[int, Recipient] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = Contact.objects.filter(pk__in=ids[start : start + _CHUNK]).values_list(*_COLUMNS)
        for row in rows:
            found[row[0]] = Recipient(*row)
    by_org: dict[int, list[Recipient]] = {}
    for recipient in found.values():
        if recipient.organisation_id:
            by_org.setdefault(recipient.organisation_id, []).append(recipient)
    org_ids = list(by_org)
    for start in range(0, len(org_ids), _CHUNK):
        segments = (
            Membership.of_organisations(org_ids[start : start + _CHUNK])
            .filter(axis__is_active=True)
            .order_by("segment__position", "segment_id")
            .values_list("organisation_id", "axis__code", "segment__name")
        )
        for org_id, code, name in segments:
            for recipient in by_org[org_id]:
                recipient.segments.setdefault(axis_key(code), []).append(name)
    return found


def _sector(code: str | None, language: str) -> str:
    if not code:
        return ""
    try:
        return nace.DIVISIONS[nace.division_for(code)].label(language)
    except (nace.NaceCodeInvalid, KeyError):
        return ""


def context_for(recipient: Recipient, language: str, unsubscribe_url: str) -> dict[str, Any]:
    """The merge values of one message, in its language (segment names are translated)."""
    with translation.override(language):
        segments = {
            key: ", ".join(translation.gettext(name) for name in names)
            for key, names in recipient.segments.items()
        }
    first, last = recipient.first_name or "", recipient.last_name or ""
    return {
        "contact": {
            "first_name": first,
            "last_name": last,
            "full_name": f"{first} {last}".strip(),
            "job_title": recipient.job_title or "",
            "email": recipient.email or "",
        },
        "organisation": {
            "trade_name": recipient.trade_name or recipient.legal_name or "",
            "legal_name": recipient.legal_name or "",
            "city": recipient.city or "",
            "region": region_label(recipient.region) if recipient.region else "",
            "website": recipient.website or "",
            "sector": _sector(recipient.naf_code, language),
            "size_class": (recipient.size_class or "").upper(),
            "headcount": recipient.headcount if recipient.headcount is not None else "",
        },
        "segments": segments,
        "unsubscribe_url": unsubscribe_url,
    }


def language_for(template: EmailTemplate, contact_language: str) -> str:
    """The contact's language when the template is written in it, else the other one."""
    wanted = (contact_language or "fr")[:2].lower()
    written = template.languages()
    if wanted in written:
        return wanted
    return written[0] if written else "fr"


_CACHE: dict[tuple[int, int, str, str, str], Compiled] = {}


def compiled(template: EmailTemplate, language: str) -> Compiled:
    """`template` in `language`, compiled once per (template, version) and text: an edit bumps
    the version, so a worker never sends with a stale compilation — and the text itself is in
    the key, since a rolled-back template's id and version can come back with other words."""
    subject = getattr(template, f"subject_{language}")
    body = getattr(template, f"body_{language}")
    key = (template.pk, template.version, language, subject, body)
    found = _CACHE.get(key)
    if found is None:
        found = compile_draft(template, language)
        if len(_CACHE) > 500:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def compile_draft(template: EmailTemplate, language: str) -> Compiled:
    """`template` in `language`, compiled now (an unsaved draft, for the editor's preview)."""
    subject = getattr(template, f"subject_{language}")
    body = getattr(template, f"body_{language}")
    return Compiled(language, compile_text(subject), compile_text(body))

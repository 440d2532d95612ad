"""Reading one ingested event: shape, values and limits, without touching the database.

Each event is judged on its own so that one bad event never costs the others their place
(SPEC C4: "idempotent event-ingestion API"). What needs the database (which contact an email
belongs to, whether an id exists) is resolved afterwards for the whole batch at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError
from cible.core.normalisers.web import domain as normalise_domain
from cible.core.normalisers.web import email as normalise_email
from cible.core.values import is_id
from cible.engagement.interactions.models import InteractionKind

MAX_EVENTS = 10_000
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # senders' clocks drift; beyond this it is a bug
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # before: a zero or missing timestamp
MAX_PROPERTIES_CHARS = 10_000

FIELDS = frozenset(
    {
        "event_id",
        "source",
        "kind",
        "occurred_at",
        "email",
        "contact_id",
        "visitor_id",
        "organisation_id",
        "domain",
        "campaign",
        "properties",
    }
)
_KINDS = frozenset(InteractionKind.values)
# The common shape of an address, already in the form the email normaliser gives: checking it
# with a regular expression is a hundred times cheaper than the full validation.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9._%+-]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
)


@dataclass
class ParsedEvent:
    index: int
    event_id: str
    source: str
    kind: str
    occurred_at: dt.datetime | None
    email: str = ""
    contact_id: int | None = None
    visitor_id: str = ""
    organisation_id: int | None = None
    domain: str = ""
    campaign_id: int | None = None
    utm_campaign: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


class EventRefused(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


def _refuse(name: str, message: str) -> EventRefused:
    return EventRefused(FieldError(name, message))


def _storable(name: str, text: str) -> str:
    """Text the database can hold: PostgreSQL refuses NUL characters and lone surrogates."""
    if "\x00" in text:
        raise _refuse(name, _("must not contain NUL characters"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(name, _("is not valid Unicode text")) from None
    return text


def _text(raw: dict[str, Any], name: str, max_length: int, *, required: bool = False) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise _refuse(name, _("is required"))
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _refuse(name, _("must be text"))
    text = str(value).strip()
    if len(text) > max_length:
        raise _refuse(name, _("is longer than %(max)s characters") % {"max": f"{max_length:,}"})
    if required and not text:
        raise _refuse(name, _("is required"))
    return _storable(name, text)


def _id(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not is_id(value) or int(value) == 0:
        raise _refuse(name, _("“%(value)s” is not an id") % {"value": str(value)[:40]})
    return int(value)


def parse_moment(value: Any, now: dt.datetime, name: str = "occurred_at") -> dt.datetime:
    """An ISO 8601 time with its offset, not in the future (beyond the tolerance), not before
    2000: a sender's clock set wrong or an epoch of zero must not pass for real activity."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        if not isinstance(value, str):
            raise _refuse(name, _("must be an ISO 8601 time such as 2026-03-01T14:30:00+01:00"))
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _refuse(
                name,
                _("“%(value)s” is not an ISO 8601 time such as 2026-03-01T14:30:00+01:00")
                % {"value": value[:40]},
            ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _refuse(
            name, _("needs its time zone offset (e.g. +01:00 or Z): the time is ambiguous")
        )
    if moment > now + FUTURE_TOLERANCE:
        raise _refuse(
            name,
            _("is in the future (%(value)s); the sender's clock is probably wrong")
            % {"value": moment.isoformat()},
        )
    if moment < EARLIEST:
        raise _refuse(
            name,
            _("is before 2000-01-01 (%(value)s); probably a missing or zero timestamp")
            % {"value": moment.isoformat()},
        )
    return moment


def _email(raw: dict[str, Any]) -> str:
    value = raw.get("email")
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise _refuse("email", _("must be text"))
    text = value.strip().lower()
    if len(text) <= 254 and _PLAIN_EMAIL.fullmatch(text):
        return text
    try:
        return normalise_email(value, field="email") or ""
    except NormalisationError as error:
        raise _refuse("email", error.message) from None


def _properties(raw: dict[str, Any]) -> dict[str, Any]:
    value = raw.get("properties")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse("properties", _("must be a JSON object"))
    try:
        dumped = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        raise _refuse("properties", _("must be a JSON object")) from None
    if len(dumped) > MAX_PROPERTIES_CHARS:
        raise _refuse(
            "properties",
            _("is larger than %(max)s characters once encoded")
            % {"max": f"{MAX_PROPERTIES_CHARS:,}"},
        )
    if "\\u0000" in dumped:  # PostgreSQL's jsonb refuses an escaped NUL
        raise _refuse("properties", _("must not contain NUL characters"))
    _storable("properties", dumped)
    return value


def parse_event(index: int, raw: Any, now: dt.datetime) -> ParsedEvent:
    """One event, checked; raises EventRefused naming the first field that is wrong."""
    if not isinstance(raw, dict):
        raise _refuse("", _("an event must be a JSON object"))
    unknown = sorted(str(name) for name in raw if name not in FIELDS)
    if unknown:
        raise _refuse(unknown[0][:60], _("is not a field of an event"))
    event_id = _text(raw, "event_id", 100, required=True)
    source = _text(raw, "source", 50)
    kind = raw.get("kind")
    if kind is None or kind == "":
        raise _refuse("kind", _("is required"))
    if kind not in _KINDS:
        raise _refuse(
            "kind",
            _("“%(value)s” is not a kind of interaction; use one of: %(kinds)s")
            % {"value": str(kind)[:40], "kinds": ", ".join(sorted(_KINDS))},
        )
    moment = raw.get("occurred_at")
    occurred_at = None if moment in (None, "") else parse_moment(moment, now)
    event = ParsedEvent(index, event_id, source, str(kind), occurred_at)
    event.email = _email(raw)
    event.contact_id = _id(raw, "contact_id")
    event.visitor_id = _text(raw, "visitor_id", 254)
    if not (event.email or event.contact_id or event.visitor_id):
        raise _refuse("email", _("an event needs an email, a contact_id or a visitor_id"))
    event.organisation_id = _id(raw, "organisation_id")
    if raw.get("domain") not in (None, ""):
        if not isinstance(raw["domain"], str):
            raise _refuse("domain", _("must be text"))
        try:
            event.domain = normalise_domain(raw["domain"], field="domain") or ""
        except NormalisationError as error:
            raise _refuse("domain", error.message) from None
    campaign = raw.get("campaign")
    if isinstance(campaign, int) and not isinstance(campaign, bool):
        event.campaign_id = _id(raw, "campaign")
    elif campaign not in (None, ""):
        event.utm_campaign = _text(raw, "campaign", 100)
    event.properties = _properties(raw)
    return event

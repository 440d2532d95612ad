"""Pure consent logic, no database: parsing channels and statuses, which event is the latest
word, and the summary fields of a contact that follow from its current consents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import FieldError
from cible.quality.privacy.models import (
    NEGATIVE_STATUSES,
    ConsentSource,
    ConsentStatus,
    ContactChannel,
)

# Audit channels (core.audit.Channel) → where a consent came from, when the caller does not say.
SOURCE_OF_CHANNEL = {
    "ui": ConsentSource.UI,
    "api": ConsentSource.API,
    "import": ConsentSource.IMPORT,
    "cli": ConsentSource.CLI,
    "job": ConsentSource.CLI,
}


def _one_of(field: str, raw: Any, allowed: Iterable[str], message: str) -> FieldError:
    """`message` (translated) names the bad value as %(value)s and the choices as %(allowed)s."""
    return FieldError(field, message % {"value": str(raw)[:60], "allowed": ", ".join(allowed)})


def _parse_choice(
    raw: Any, errors: list[FieldError], field: str, allowed: list[str], unknown: str
) -> str | None:
    """The choice `raw` names (case and spaces ignored), or None with the problem in `errors`."""
    text = str(raw or "").strip().lower()
    if text in allowed:
        return text
    if not text:
        errors.append(FieldError(field, _("is required")))
    else:
        errors.append(_one_of(field, raw, allowed, unknown))
    return None


def parse_channel(raw: Any, errors: list[FieldError], field: str = "channel") -> str | None:
    return _parse_choice(
        raw,
        errors,
        field,
        ContactChannel.values,
        _("unknown channel “%(value)s”: use one of %(allowed)s"),
    )


def parse_status(raw: Any, errors: list[FieldError], field: str = "status") -> str | None:
    return _parse_choice(
        raw,
        errors,
        field,
        ConsentStatus.values,
        _("unknown status “%(value)s”: use one of %(allowed)s"),
    )


def parse_source(raw: Any, channel: str, errors: list[FieldError]) -> str | None:
    text = str(raw or "").strip().lower()
    if not text:
        return SOURCE_OF_CHANNEL.get(channel, ConsentSource.UI)
    if text in ConsentSource.values:
        return text
    errors.append(
        _one_of(
            "source",
            raw,
            ConsentSource.values,
            _("unknown source “%(value)s”: use one of %(allowed)s"),
        )
    )
    return None


@dataclass(frozen=True)
class StateView:
    """What the logic needs of a consent event (built from a `ConsentEvent` or its values)."""

    channel: str
    purpose_id: int | None
    status: str
    occurred_at: dt.datetime
    event_id: int

    @property
    def key(self) -> tuple[dt.datetime, int]:
        """Order of events: when they happened, then the order they were recorded in."""
        return (self.occurred_at, self.event_id)

    @property
    def negative(self) -> bool:
        return self.status in NEGATIVE_STATUSES


Key = tuple[str, int | None]  # (channel, purpose id or None for every purpose)


def latest(views: Iterable[StateView]) -> dict[Key, StateView]:
    """The current state: per channel and purpose, the latest event."""
    current: dict[Key, StateView] = {}
    for view in views:
        key = (view.channel, view.purpose_id)
        if key not in current or view.key > current[key].key:
            current[key] = view
    return current


def effective(specific: StateView | None, general: StateView | None) -> StateView | None:
    """The latest word for one purpose: its own state or the channel-wide one, whichever is
    newer ("unsubscribe from all" after a newsletter grant wins, and a grant after it wins)."""
    if specific is None:
        return general
    if general is None:
        return specific
    return specific if specific.key > general.key else general


def _channel_opt_out(states: list[StateView], channel: str, current: bool) -> bool:
    general = next((s for s in states if s.channel == channel and s.purpose_id is None), None)
    if general is None:
        return current  # only a channel-wide word changes the channel-wide flag
    if not general.negative:
        return False
    regranted = any(
        s.channel == channel
        and s.purpose_id is not None
        and s.status == ConsentStatus.GRANTED
        and s.key > general.key
        for s in states
    )
    return not regranted


def summary(states: Iterable[StateView], current: Mapping[str, Any]) -> dict[str, Any]:
    """The contact's summary fields (email_consent, email_opt_out, phone_opt_out, opted_out_at)
    as its current consents make them; fields a channel without consents cannot tell are kept."""
    states = list(states)
    email_opt_out = _channel_opt_out(states, ContactChannel.EMAIL, current["email_opt_out"])
    phone_opt_out = _channel_opt_out(states, ContactChannel.PHONE, current["phone_opt_out"])

    email_states = [s for s in states if s.channel == ContactChannel.EMAIL]
    general = next((s for s in email_states if s.purpose_id is None), None)
    words = [effective(s, general) for s in email_states if s.purpose_id is not None]
    if general is not None:
        words.append(general)
    email_consent = current["email_consent"]
    if any(w is not None and w.status == ConsentStatus.GRANTED for w in words):
        email_consent = "granted"
    elif words:
        email_consent = "withdrawn"

    opted_out_at = current.get("opted_out_at")
    if email_opt_out or phone_opt_out:
        if opted_out_at is None or not (current["email_opt_out"] or current["phone_opt_out"]):
            negatives = [
                s.occurred_at
                for s in states
                if s.purpose_id is None
                and s.negative
                and (
                    (s.channel == ContactChannel.EMAIL and email_opt_out)
                    or (s.channel == ContactChannel.PHONE and phone_opt_out)
                )
            ]
            opted_out_at = max(negatives) if negatives else opted_out_at
    else:
        opted_out_at = None
    return {
        "email_consent": email_consent,
        "email_opt_out": email_opt_out,
        "phone_opt_out": phone_opt_out,
        "opted_out_at": opted_out_at,
    }


def implied_by_record_change(changes: Mapping[str, Any], *, created: bool) -> list[tuple[str, str]]:
    """Consent events that a change of the contact's summary fields stands for, when it was made
    outside this app (the contact form, the API's contact fields): [(channel, status)].

    `changes` is auditlog's {field: [old, new]} with values as text ("True", "granted").
    """

    def pair(name: str) -> tuple[str, str] | None:
        value = changes.get(name)
        if isinstance(value, list | tuple) and len(value) == 2:
            return str(value[0]), str(value[1])
        return None

    events: list[tuple[str, str]] = []
    opt_out, consent = pair("email_opt_out"), pair("email_consent")
    if opt_out is not None and opt_out[1] == "True":
        events.append((ContactChannel.EMAIL, ConsentStatus.WITHDRAWN))
    elif opt_out is not None and opt_out[1] == "False" and opt_out[0] == "True" and not created:
        events.append((ContactChannel.EMAIL, ConsentStatus.GRANTED))
    elif consent is not None and consent[1] in (ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN):
        events.append((ContactChannel.EMAIL, consent[1]))
    phone = pair("phone_opt_out")
    if phone is not None and phone[1] == "True":
        events.append((ContactChannel.PHONE, ConsentStatus.WITHDRAWN))
    elif phone is not None and phone[1] == "False" and phone[0] == "True" and not created:
        events.append((ContactChannel.PHONE, ConsentStatus.GRANTED))
    return events

"""Reads of the privacy app. Senders ask `may_contact` (one person) or `contactable` (a
queryset) before every email, call, text or letter (SPEC C2: consent honoured by every send).

The rule, in order:
1. an anonymised contact is never contacted;
2. "opted out of emails" / "opted out of calls" on the contact record blocks the channel;
3. the latest word for the purpose (its own consent or the channel-wide one, whichever is newer)
   decides: granted → yes, withdrawn or refused → no;
4. with no word at all: purposes that need explicit consent (opt-in) say no — unless the contact
   carries a blanket email consent from before consents were kept per purpose — and the others
   say yes (B2B prospecting under legitimate interest, until the person objects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.people.models import Contact
from cible.quality.privacy import consents, permissions
from cible.quality.privacy.models import (
    NEGATIVE_STATUSES,
    ConsentEvent,
    ConsentStatus,
    ContactChannel,
    PrivacyRequest,
    Purpose,
    RetentionRule,
)
from cible.quality.privacy.services import resolve_purpose

OPT_OUT_FIELD: dict[str, str] = {
    ContactChannel.EMAIL: "email_opt_out",
    ContactChannel.PHONE: "phone_opt_out",
}


@dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: str


def _parse(channel: Any, purpose: Any) -> tuple[str, Purpose]:
    errors: list[FieldError] = []
    medium = consents.parse_channel(channel, errors)
    chosen = resolve_purpose(purpose, errors)
    if chosen is None and not errors:
        errors.append(FieldError("purpose", _("name the purpose the person is contacted for")))
    if errors:
        raise ValidationFailed(errors=errors)
    assert medium is not None and chosen is not None
    return medium, chosen


def current_consents(contact: Contact) -> dict[consents.Key, ConsentEvent]:
    """The latest event per channel and purpose (None: every purpose) of one contact."""
    current: dict[consents.Key, ConsentEvent] = {}
    for event in ConsentEvent.objects.filter(contact=contact).select_related("purpose"):
        key = (event.channel, event.purpose_id)
        if key not in current or _view(event).key > _view(current[key]).key:
            current[key] = event
    return current


def contact_permission(contact: Contact, channel: Any, purpose: Any) -> Permission:
    """May `contact` be contacted through `channel` for `purpose`, and why (see module doc)."""
    medium, chosen = _parse(channel, purpose)
    events = ConsentEvent.objects.filter(contact=contact, channel=medium)
    states = list(consents.latest(_view(e) for e in events).values())
    return _permission(contact, medium, chosen, states)


def _view(event: ConsentEvent) -> consents.StateView:
    return consents.StateView(
        event.channel, event.purpose_id, event.status, event.occurred_at, event.pk
    )


def _permission(
    contact: Contact, medium: str, chosen: Purpose, states: list[consents.StateView]
) -> Permission:
    """The rule of the module docstring, over the contact's current consents on `medium`."""
    if contact.anonymised_at is not None:
        return Permission(False, _("the contact was anonymised"))
    flag = OPT_OUT_FIELD.get(medium)
    if flag and getattr(contact, flag):
        return Permission(False, _("opted out of this channel on the contact record"))
    own = next((s for s in states if s.purpose_id == chosen.pk), None)
    wide = next((s for s in states if s.purpose_id is None), None)
    word = consents.effective(own, wide)
    if word is not None:
        if word.status == ConsentStatus.GRANTED:
            return Permission(True, _("consent granted"))
        return Permission(
            False,
            _("consent withdrawn") if word.status == ConsentStatus.WITHDRAWN else _("refused"),
        )
    if not chosen.requires_consent:
        return Permission(True, _("no objection recorded (legitimate interest)"))
    legacy = medium == ContactChannel.EMAIL and contact.email_consent == "granted" and not states
    if legacy:
        return Permission(True, _("email consent recorded on the contact record"))
    return Permission(False, _("this purpose needs explicit consent, and none was recorded"))


def may_contact(contact: Contact, channel: Any, purpose: Any) -> bool:
    """Whether a send to `contact` through `channel` for `purpose` is allowed.
    Unknown channel or purpose: `ValidationFailed` naming it."""
    return contact_permission(contact, channel, purpose).allowed


def contactable(queryset: QuerySet[Contact], channel: Any, purpose: Any) -> QuerySet[Contact]:
    """`queryset` narrowed, in SQL, to the contacts `may_contact` allows (same rule)."""
    medium, chosen = _parse(channel, purpose)
    qs = queryset.filter(anonymised_at__isnull=True)
    flag = OPT_OUT_FIELD.get(medium)
    if flag:
        qs = qs.filter(**{flag: False})
    newest = ("-occurred_at", "-id")
    own = ConsentEvent.objects.filter(
        contact=OuterRef("pk"), channel=medium, purpose=chosen
    ).order_by(*newest)
    wide = ConsentEvent.objects.filter(
        contact=OuterRef("pk"), channel=medium, purpose__isnull=True
    ).order_by(*newest)
    qs = qs.annotate(
        _own_status=Subquery(own.values("status")[:1]),
        _own_at=Subquery(own.values("occurred_at")[:1]),
        _own_event=Subquery(own.values("id")[:1]),
        _wide_status=Subquery(wide.values("status")[:1]),
        _wide_at=Subquery(wide.values("occurred_at")[:1]),
        _wide_event=Subquery(wide.values("id")[:1]),
    ).annotate(
        _word=Case(
            When(_wide_status__isnull=True, then=F("_own_status")),
            When(_own_status__isnull=True, then=F("_wide_status")),
            When(_own_at__gt=F("_wide_at"), then=F("_own_status")),
            When(
                Q(_own_at=F("_wide_at")) & Q(_own_event__gt=F("_wide_event")), then=F("_own_status")
            ),
            default=F("_wide_status"),
        )
    )
    silent = Q(_word__isnull=True)
    if chosen.requires_consent:
        if medium == ContactChannel.EMAIL:
            any_email_word = ConsentEvent.objects.filter(
                contact=OuterRef("pk"), channel=ContactChannel.EMAIL
            )
            silent &= Q(email_consent="granted") & Q(~Exists(any_email_word))
        else:
            silent &= Q(pk__in=[])
    return qs.filter(Q(_word=ConsentStatus.GRANTED) | silent)


# --- what the contact page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class ConsentCell:
    channel: str
    purpose: Purpose | None
    state: ConsentEvent | None  # the latest event for the channel and purpose
    permission: Permission | None


def _require_view(viewer: Any, contact: Contact) -> None:
    if not permissions.may_view(viewer, contact):
        raise PermissionDenied(_("You may not see this contact."))


def consent_grid(*, viewer: Any, contact: Contact) -> list[dict[str, Any]]:
    """One row per channel: its channel-wide word, then one cell per active purpose with the
    current consent and whether a send would be allowed."""
    _require_view(viewer, contact)
    purposes = list(Purpose.objects.filter(is_active=True))
    states = current_consents(contact)
    rows = []
    for medium, label in ContactChannel.choices:
        on_channel = [_view(s) for (ch, _p), s in states.items() if ch == medium]
        cells = [
            ConsentCell(
                medium,
                purpose,
                states.get((medium, purpose.pk)),
                _permission(contact, medium, purpose, on_channel),
            )
            for purpose in purposes
        ]
        rows.append(
            {
                "channel": medium,
                "label": label,
                "wide": states.get((medium, None)),
                "cells": cells,
            }
        )
    return rows


def consent_history(*, viewer: Any, contact: Contact) -> QuerySet[ConsentEvent]:
    _require_view(viewer, contact)
    return (
        ConsentEvent.objects.filter(contact=contact)
        .select_related("purpose", "recorded_by", "api_token")
        .order_by("-occurred_at", "-id")
    )


def negative_statuses() -> tuple[str, ...]:
    return tuple(str(s) for s in NEGATIVE_STATUSES)


# --- the privacy home ---------------------------------------------------------------------------


def _require_admin(viewer: Any) -> None:
    if not permissions.may_administer(viewer):
        raise PermissionDenied(_("Only administrators may see the privacy journal."))


def recent_requests(*, viewer: Any, limit: int = 50) -> QuerySet[PrivacyRequest]:
    _require_admin(viewer)
    return PrivacyRequest.objects.select_related("actor", "rule")[:limit]


def contact_requests(*, viewer: Any, contact: Contact) -> QuerySet[PrivacyRequest]:
    _require_view(viewer, contact)
    return PrivacyRequest.objects.filter(contact_ref=contact.pk).select_related("actor")


def retention_rules(*, viewer: Any) -> QuerySet[RetentionRule]:
    _require_admin(viewer)
    return RetentionRule.objects.all()


def purposes(*, viewer: Any, active_only: bool = False) -> QuerySet[Purpose]:
    if not access.can(viewer, "view"):
        raise PermissionDenied(_("Sign in to see the purposes."))
    qs = Purpose.objects.all()
    return qs.filter(is_active=True) if active_only else qs

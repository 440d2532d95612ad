"""Every write to interactions: one touchpoint at a time (logged by hand, the API), thousands at
a time (event ingestion), and the late attachment of events to a contact who appears later.

Each write sends `interactions_recorded` once, after its transaction commits, and moves the
campaign members the interactions prove something about (`campaigns.responses`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.core.values import moment as parse_moment_text
from cible.core.values import whole_number
from cible.engagement.campaigns.models import Campaign
from cible.engagement.campaigns.responses import advance_members
from cible.engagement.interactions import kinds
from cible.engagement.interactions.events import (
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_PROPERTIES_CHARS,
)
from cible.engagement.interactions.ingestion import IngestResult, RejectedEvent, ingest
from cible.engagement.interactions.models import (
    LOGGED_BY_HAND,
    Interaction,
    InteractionChannel,
    InteractionKind,
    InteractionOutcome,
)
from cible.engagement.interactions.signals import interactions_recorded
from cible.people.models import Contact, Organisation
from cible.people.references import resolve_owner, resolve_visible

__all__ = [
    "IngestResult",
    "RejectedEvent",
    "attach_unmatched",
    "ingest_events",
    "interaction_create",
    "interaction_log",
    "record_interaction",
]

MAX_DURATION_SECONDS = 24 * 3600
# The audit log knows five channels; interactions name where they came from more precisely.
AUDIT_CHANNEL = {"form": "api", "tracking": "job", "events": "api"}


def announce(interactions: Sequence[Interaction]) -> None:
    """Advance campaign members now and tell the apps above once the transaction commits."""
    updates = [
        (i.campaign_id, i.contact_id, kinds.MEMBER_STATUS[i.kind], i.occurred_at)
        for i in interactions
        if i.campaign_id and i.contact_id and i.kind in kinds.MEMBER_STATUS
    ]
    if updates:
        advance_members(updates=updates)
    if interactions:
        rows = list(interactions)
        transaction.on_commit(
            lambda: interactions_recorded.send(sender=Interaction, interactions=rows)
        )


def _encodable(text: str) -> bool:
    """PostgreSQL refuses lone surrogates, which JSON escapes let through."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(errors: list[FieldError], name: str, value: str, max_length: int) -> None:
    if "\x00" in value:
        errors.append(FieldError(name, _("must not contain NUL characters")))
    elif not _encodable(value):
        errors.append(FieldError(name, _("is not valid Unicode text")))
    elif len(value) > max_length:
        errors.append(
            FieldError(name, _("is longer than %(max)s characters") % {"max": f"{max_length:,}"})
        )


def _check_moment(errors: list[FieldError], occurred_at: dt.datetime) -> None:
    if timezone.is_naive(occurred_at):
        errors.append(FieldError("occurred_at", _("needs a time zone")))
    elif occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors.append(FieldError("occurred_at", _("is in the future")))
    elif occurred_at < EARLIEST:
        errors.append(FieldError("occurred_at", _("is before 2000-01-01")))


def _check_properties(errors: list[FieldError], properties: Any) -> None:
    if not isinstance(properties, dict):
        errors.append(FieldError("properties", _("must be a JSON object")))
        return
    try:
        dumped = json.dumps(properties, ensure_ascii=False)
    except (TypeError, ValueError):
        errors.append(FieldError("properties", _("must be a JSON object")))
        return
    if len(dumped) > MAX_PROPERTIES_CHARS or "\\u0000" in dumped or not _encodable(dumped):
        errors.append(
            FieldError(
                "properties",
                _("must be under %(max)s characters once encoded, without NUL characters")
                % {"max": f"{MAX_PROPERTIES_CHARS:,}"},
            )
        )


def _check_access(actor: Any, contact: Any, organisation: Any, campaign: Any) -> None:
    if access.role_of(actor) is None:
        raise PermissionDenied(_("You must be signed in to record interactions."))
    for record in (contact, organisation, campaign):
        if record is not None and not access.can(actor, "view", record):
            raise PermissionDenied(
                _("You may not record interactions with %(record)s.") % {"record": record}
            )


@transaction.atomic
def record_interaction(
    *,
    kind: str,
    contact: Contact | None = None,
    organisation: Organisation | None = None,
    campaign: Campaign | None = None,
    occurred_at: dt.datetime | None = None,
    owner: Any = None,
    outcome: str = "",
    subject: str = "",
    notes: str = "",
    duration_seconds: int | None = None,
    channel: str,
    source: str = "",
    event_id: str = "",
    visitor_key: str = "",
    properties: dict[str, Any] | None = None,
    actor: Any,
) -> Interaction:
    """Store one touchpoint; the same (source, event_id) twice returns the stored one.

    The organisation defaults to the contact's, so the organisation's timeline shows what its
    people did. The actor must be allowed to see what the interaction is about.
    """
    errors: list[FieldError] = []
    if kind not in InteractionKind.values:
        errors.append(
            FieldError("kind", _("“%(value)s” is not a kind of interaction") % {"value": kind})
        )
    if contact is None and organisation is None and not visitor_key:
        errors.append(FieldError("contact", _("name a contact, an organisation or a visitor")))
    named_organisation = organisation
    if organisation is None and contact is not None and contact.organisation_id:
        organisation = contact.organisation
    occurred_at = occurred_at or timezone.now()
    _check_moment(errors, occurred_at)
    if outcome and outcome not in kinds.outcomes_for(kind):
        allowed = ", ".join(kinds.outcomes_for(kind))
        errors.append(
            FieldError(
                "outcome",
                _("“%(value)s” is not an outcome of this kind of interaction (use %(allowed)s)")
                % {"value": outcome, "allowed": allowed},
            )
        )
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        errors.append(
            FieldError("duration_seconds", _("must be between 0 and 86,400 seconds (24 hours)"))
        )
    if channel not in InteractionChannel.values:
        errors.append(FieldError("channel", _("“%(value)s” is not a channel") % {"value": channel}))
    for name, value, limit in (
        ("subject", subject, 255),
        ("notes", notes, 10_000),
        ("source", source, 50),
        ("event_id", event_id, 100),
        ("visitor_key", visitor_key, 254),
    ):
        _check_text(errors, name, value, limit)
    properties = {} if properties is None else properties
    _check_properties(errors, properties)
    if errors:
        raise ValidationFailed(errors=errors)
    _check_access(actor, contact, named_organisation, campaign)
    if owner is None and kind in LOGGED_BY_HAND and getattr(actor, "pk", None):
        owner = actor  # whoever logs a call or a meeting took part in it
    interaction = Interaction(
        kind=kind,
        contact=contact,
        organisation=organisation,
        campaign=campaign,
        occurred_at=occurred_at,
        owner=owner,
        outcome=outcome,
        subject=subject.strip(),
        notes=notes.strip(),
        duration_seconds=duration_seconds,
        channel=channel,
        source=source,
        event_id=event_id,
        visitor_key=visitor_key,
        properties=properties,
    )
    if event_id:
        stored = Interaction.objects.filter(source=source, event_id=event_id).first()
        if stored is not None:
            return stored
    try:
        with (
            transaction.atomic(),
            audit_context(actor=actor, channel=AUDIT_CHANNEL.get(channel, channel)),
        ):
            interaction.save()
    except IntegrityError:
        # Another request stored the same event between our check and our insert.
        stored = Interaction.objects.filter(source=source, event_id=event_id).first()
        if not event_id or stored is None:
            raise
        return stored
    announce([interaction])
    return interaction


def interaction_log(
    *,
    record: Contact | Organisation,
    kind: str,
    outcome: str,
    actor: Any,
    subject: str = "",
    notes: str = "",
    duration_seconds: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> Interaction:
    """A call or a meeting logged from a record's page: it counts as changing the record, so
    whoever may only read it (an outsider to a team-private account) may not log on it."""
    if kind not in LOGGED_BY_HAND:
        raise ValidationFailed(
            errors=[FieldError("kind", _("only calls and meetings are logged here"))]
        )
    if not access.can(actor, "change", record):
        raise PermissionDenied(
            _("You may not log interactions on %(record)s.") % {"record": record}
        )
    contact = record if isinstance(record, Contact) else None
    organisation = record if isinstance(record, Organisation) else None
    return record_interaction(
        kind=kind,
        contact=contact,
        organisation=organisation,
        occurred_at=occurred_at,
        owner=actor,
        outcome=outcome,
        subject=subject,
        notes=notes,
        duration_seconds=duration_seconds,
        channel=InteractionChannel.UI,
        actor=actor,
    )


def _campaign(raw: Any, actor: Any, errors: list[FieldError]) -> Campaign | None:
    if raw in (None, ""):
        return None
    try:
        return access.visible(actor, Campaign.objects.all()).get(pk=int(raw))
    except (TypeError, ValueError, OverflowError, Campaign.DoesNotExist):
        errors.append(
            FieldError("campaign", _("no campaign with id %(id)s") % {"id": str(raw)[:20]})
        )
        return None


def interaction_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Interaction:
    """One interaction from the API: references by id, values as text, every problem named."""
    errors: list[FieldError] = []
    contact = resolve_visible(Contact, data.get("contact"), "contact", actor, errors)
    organisation = resolve_visible(
        Organisation, data.get("organisation"), "organisation", actor, errors
    )
    campaign = _campaign(data.get("campaign"), actor, errors)
    owner = resolve_owner(data.get("owner"), errors)
    values: dict[str, Any] = {}
    try:
        values["occurred_at"] = parse_moment_text(data.get("occurred_at"), field="occurred_at")
    except NormalisationError as error:
        errors.append(FieldError(error.field, error.message))
    try:
        values["duration_seconds"] = whole_number(
            data.get("duration_seconds"), field="duration_seconds"
        )
    except NormalisationError as error:
        errors.append(FieldError(error.field, error.message))
    if errors:
        raise ValidationFailed(errors=errors)
    outcome = data.get("outcome") or ""
    if outcome and outcome not in InteractionOutcome.values:
        raise ValidationFailed(
            errors=[FieldError("outcome", _("“%(value)s” is not an outcome") % {"value": outcome})]
        )
    return record_interaction(
        kind=str(data.get("kind") or ""),
        contact=contact,
        organisation=organisation,
        campaign=campaign,
        owner=owner,
        outcome=outcome,
        subject=data.get("subject") or "",
        notes=data.get("notes") or "",
        channel=channel,
        source=data.get("source") or "",
        event_id=data.get("event_id") or "",
        visitor_key=data.get("visitor_key") or "",
        properties=data.get("properties"),
        actor=actor,
        **values,
    )


def ingest_events(*, events: list[Any], actor: Any) -> IngestResult:
    """Store a batch of website or product events (see `ingestion.ingest`)."""
    return ingest(events=events, actor=actor, announce=announce)


def attach_unmatched(*, contacts: Iterable[Contact] | None = None) -> list[Interaction]:
    """Give events stored for an unknown email to the contact that now has that email.

    `contacts` None looks at every unmatched email (after a bulk import). Set-based: a few
    queries per 500 emails. Announced like new interactions, since to the apps above they are
    new activity of that contact.
    """
    from cible.engagement.interactions.ingestion import attach

    return attach(contacts=contacts, announce=announce)

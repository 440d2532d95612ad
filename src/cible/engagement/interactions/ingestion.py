"""Event ingestion, set-based: a batch of up to 10,000 website or product events is read, matched
and stored in a handful of queries, whatever its size (issue 6: ≥ 5,000 events/s).

Idempotent: an event is known by (source, event_id). Events already stored, and repeats inside
the batch, are counted as duplicates; when two calls race with the same events, the unique
constraint `interaction_event_once` refuses the slower one's insert, which then takes the
winner's rows for duplicates and stores the rest. Nothing is lost: an event for a person Cible
does not know yet is stored under its `visitor_key` and given to the contact when one appears.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.bulk import bulk_insert, log_bulk, sequence_ids
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.values import is_id
from cible.engagement.campaigns.models import Campaign
from cible.engagement.interactions.events import (
    MAX_EVENTS,
    EventRefused,
    ParsedEvent,
    parse_event,
)
from cible.engagement.interactions.models import Interaction, InteractionChannel
from cible.people.models import Contact, Organisation

Announce = Callable[[Sequence[Interaction]], None]
_CHUNK = 2000  # values per IN (...) list: far below every database's parameter limit
_RETRIES = 5


@dataclass(frozen=True)
class RejectedEvent:
    index: int
    event_id: str
    field: str
    message: str


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list[RejectedEvent]
    interactions: list[Interaction] = field(default_factory=list, repr=False)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    it = iter(values)
    while chunk := list(islice(it, _CHUNK)):
        yield chunk


@dataclass
class _References:
    """What the batch's events name, looked up once for the whole batch."""

    contacts: dict[int, int | None] = field(default_factory=dict)  # id -> organisation id
    by_email: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    organisations: set[int] = field(default_factory=set)
    by_domain: dict[str, int] = field(default_factory=dict)
    campaigns: set[int] = field(default_factory=set)
    by_utm: dict[str, int] = field(default_factory=dict)


def _visible(actor: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
    return access.visible(actor, qs)


def _references(events: list[ParsedEvent], actor: Any) -> _References:
    refs = _References()
    contact_ids = {e.contact_id for e in events if e.contact_id}
    emails = {e.email for e in events if e.email and not e.contact_id}
    for chunk in _chunks(contact_ids):
        refs.contacts.update(
            _visible(actor, Contact.objects.filter(pk__in=chunk)).values_list(
                "id", "organisation_id"
            )
        )
    for chunk in _chunks(emails):
        rows = _visible(actor, Contact.objects.filter(email_key__in=chunk)).values_list(
            "email_key", "id", "organisation_id"
        )
        for email, pk, organisation_id in rows.order_by("-id"):  # the oldest contact wins
            refs.by_email[email] = (pk, organisation_id)
    organisation_ids = {e.organisation_id for e in events if e.organisation_id}
    for chunk in _chunks(organisation_ids):
        refs.organisations.update(
            _visible(actor, Organisation.objects.filter(pk__in=chunk)).values_list("id", flat=True)
        )
    domains = {e.domain for e in events if e.domain and not e.organisation_id}
    for chunk in _chunks(domains):
        rows = _visible(actor, Organisation.objects.filter(domain__in=chunk)).values_list(
            "domain", "id"
        )
        for domain, pk in rows.order_by("-id"):
            refs.by_domain[domain] = pk
    campaign_ids = {e.campaign_id for e in events if e.campaign_id}
    campaign_ids |= {int(e.utm_campaign) for e in events if is_id(e.utm_campaign)}
    utms = {e.utm_campaign for e in events if e.utm_campaign}
    if campaign_ids or utms:
        wanted = Q(pk__in=list(campaign_ids)) | Q(utm_campaign__in=list(utms))
        for pk, utm in (
            _visible(actor, Campaign.objects.filter(wanted))
            .values_list("id", "utm_campaign")
            .order_by("id")
        ):  # the newest campaign of a reused UTM name wins
            refs.campaigns.add(pk)
            if utm:
                refs.by_utm[utm] = pk
    return refs


def _no_such(field_name: str, what: str, pk: int) -> EventRefused:
    return EventRefused(
        FieldError(field_name, _("no %(what)s with id %(id)s") % {"what": what, "id": pk})
    )


def _row(event: ParsedEvent, refs: _References, now: dt.datetime) -> Interaction:
    properties = dict(event.properties)
    contact_id: int | None = None
    organisation_id: int | None = None
    if event.contact_id:
        if event.contact_id not in refs.contacts:
            raise _no_such("contact_id", _("contact"), event.contact_id)
        contact_id, organisation_id = event.contact_id, refs.contacts[event.contact_id]
    elif event.email and event.email in refs.by_email:
        contact_id, organisation_id = refs.by_email[event.email]
    if event.organisation_id:
        if event.organisation_id not in refs.organisations:
            raise _no_such("organisation_id", _("organisation"), event.organisation_id)
        organisation_id = event.organisation_id
    elif event.domain:
        if event.domain in refs.by_domain:
            organisation_id = refs.by_domain[event.domain]
        elif organisation_id is None:
            properties.setdefault("domain", event.domain)  # kept for a later match
    campaign_id: int | None = None
    if event.campaign_id:
        if event.campaign_id not in refs.campaigns:
            raise _no_such("campaign", _("campaign"), event.campaign_id)
        campaign_id = event.campaign_id
    elif event.utm_campaign:
        campaign_id = refs.by_utm.get(event.utm_campaign)
        if (
            campaign_id is None
            and is_id(event.utm_campaign)
            and int(event.utm_campaign) in refs.campaigns
        ):
            campaign_id = int(event.utm_campaign)
        if campaign_id is None:
            properties.setdefault("utm_campaign", event.utm_campaign)  # a campaign not set up yet
    return Interaction(
        kind=event.kind,
        occurred_at=event.occurred_at or now,
        contact_id=contact_id,
        organisation_id=organisation_id,
        campaign_id=campaign_id,
        channel=InteractionChannel.EVENTS,
        source=event.source,
        event_id=event.event_id,
        visitor_key=event.email or event.visitor_id,
        properties=properties,
        created_at=now,
    )


def _stored_keys(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source, event_id) pairs are already stored (through the unique index)."""
    by_source: dict[str, list[str]] = {}
    for source, event_id in keys:
        by_source.setdefault(source, []).append(event_id)
    found: set[tuple[str, str]] = set()
    for source, event_ids in by_source.items():
        for chunk in _chunks(event_ids):
            # `~Q(event_id="")` repeats the index's condition so that it is used.
            qs = Interaction.objects.filter(~Q(event_id=""), source=source, event_id__in=chunk)
            found.update((source, event_id) for event_id in qs.values_list("event_id", flat=True))
    return found


# Written by the database's bulk path (core.bulk: executemany on SQLite, COPY on PostgreSQL),
# about four times faster than `bulk_create` here; ids are taken beforehand so that the stored
# rows can be announced with them.
_COLUMNS = [
    "id",
    "kind",
    "occurred_at",
    "contact_id",
    "organisation_id",
    "campaign_id",
    "owner_id",
    "outcome",
    "subject",
    "notes",
    "duration_seconds",
    "channel",
    "source",
    "event_id",
    "visitor_key",
    "properties",
    "created_at",
]


def _allocate_ids(count: int) -> list[int] | None:
    """`count` new ids, or None where the database offers no safe way to take them."""
    table = Interaction._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return sequence_ids(table, count)
        if connection.vendor == "sqlite":
            # The transaction began IMMEDIATE (settings): no other writer can take ids until it
            # ends. AUTOINCREMENT's counter is honoured, so an id of a deleted row is not reused.
            cursor.execute(
                f'SELECT MAX(x) FROM (SELECT MAX(id) AS x FROM "{table}" '
                "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
                [table],
            )
            start = cursor.fetchone()[0] or 0
            return list(range(start + 1, start + count + 1))
    return None


def _write(rows: list[Interaction]) -> list[Interaction]:
    ids = _allocate_ids(len(rows))
    if ids is None:
        return Interaction.objects.bulk_create(rows, batch_size=1000)
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
    # COPY goes through the driver's own cursor: its errors become Django's (IntegrityError).
    with connection.wrap_database_errors:
        _bulk_insert(rows)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
    return rows


def _bulk_insert(rows: list[Interaction]) -> None:
    bulk_insert(
        Interaction,
        _COLUMNS,
        (
            (
                r.pk,
                r.kind,
                r.occurred_at,
                r.contact_id,
                r.organisation_id,
                r.campaign_id,
                r.owner_id,
                r.outcome,
                r.subject,
                r.notes,
                r.duration_seconds,
                r.channel,
                r.source,
                r.event_id,
                r.visitor_key,
                json.dumps(r.properties, ensure_ascii=False),
                r.created_at,
            )
            for r in rows
        ),
    )


def _insert(rows: list[Interaction]) -> tuple[list[Interaction], int]:
    """Insert `rows`; the second figure counts rows a concurrent call stored first."""
    raced = 0
    for _attempt in range(_RETRIES):
        try:
            with transaction.atomic():
                return _write(rows), raced
        except IntegrityError:
            taken = _stored_keys((r.source, r.event_id) for r in rows)
            if not taken:
                raise
            raced += sum(1 for r in rows if (r.source, r.event_id) in taken)
            rows = [r for r in rows if (r.source, r.event_id) not in taken]
            for row in rows:  # the rolled-back attempt gave them ids that no longer exist
                row.pk = None
                row._state.adding = True
    raise IntegrityError("events kept colliding with concurrent writes")


def _event_id_of(raw: Any) -> str:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def ingest(*, events: list[Any], actor: Any, announce: Announce) -> IngestResult:
    """Store every valid event of the batch; list the others with the reason."""
    if access.role_of(actor) is None or not access.can(actor, "change"):
        raise PermissionDenied(_("You may not send events."))
    if len(events) > MAX_EVENTS:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "events",
                    _("at most %(max)s events per call (got %(count)s); split the batch")
                    % {"max": f"{MAX_EVENTS:,}", "count": f"{len(events):,}"},
                )
            ]
        )
    now = timezone.now()
    rejected: list[RejectedEvent] = []
    parsed: list[ParsedEvent] = []
    for index, raw in enumerate(events):
        try:
            parsed.append(parse_event(index, raw, now))
        except EventRefused as refused:
            error = refused.error
            rejected.append(RejectedEvent(index, _event_id_of(raw), error.field, error.message))
    refs = _references(parsed, actor)
    batch: dict[tuple[str, str], Interaction] = {}
    duplicates = 0
    for event in parsed:
        try:
            row = _row(event, refs, now)
        except EventRefused as refused:
            error = refused.error
            rejected.append(RejectedEvent(event.index, event.event_id, error.field, error.message))
            continue
        key = (event.source, event.event_id)
        if key in batch:
            duplicates += 1  # sent twice in one call
        else:
            batch[key] = row
    stored_before = _stored_keys(batch)
    rows = [row for key, row in batch.items() if key not in stored_before]
    duplicates += len(batch) - len(rows)
    rejected.sort(key=lambda r: r.index)
    if not rows:
        return IngestResult(0, duplicates, rejected)
    with transaction.atomic():
        stored, raced = _insert(rows)
        duplicates += raced
        if stored:
            log_bulk(
                actor=actor,
                channel="api",
                model=Interaction,
                rows=len(stored),
                summary=f"ingestion of {len(stored)} events",
                details={"duplicates": duplicates, "rejected": len({r.index for r in rejected})},
            )
            announce(stored)
    return IngestResult(len(stored), duplicates, rejected, stored)


# --- late matching --------------------------------------------------------------------------


def _unmatched() -> QuerySet[Interaction]:
    """Rows waiting for their contact, as the partial index `interaction_unmatched` holds them."""
    return Interaction.objects.filter(contact__isnull=True).filter(~Q(visitor_key=""))


def _owners_of(keys: Iterable[str]) -> dict[str, tuple[int, int | None]]:
    owners: dict[str, tuple[int, int | None]] = {}
    for chunk in _chunks(keys):
        rows = Contact.objects.filter(email_key__in=chunk, anonymised_at__isnull=True)
        for email, pk, organisation_id in rows.values_list(
            "email_key", "id", "organisation_id"
        ).order_by("-id"):
            owners[email] = (pk, organisation_id)
    return owners


@transaction.atomic
def attach(*, contacts: Iterable[Contact] | None, announce: Announce) -> list[Interaction]:
    if contacts is None:
        keys = _unmatched().filter(visitor_key__contains="@").values_list("visitor_key", flat=True)
        owners = _owners_of(set(keys.distinct()))
    else:
        owners = {}
        for contact in sorted(contacts, key=lambda c: -(c.pk or 0)):
            if contact.pk and contact.email_key and contact.anonymised_at is None:
                owners[contact.email_key] = (contact.pk, contact.organisation_id)
    attached: list[Interaction] = []
    for chunk in _chunks(owners):
        for row in _unmatched().filter(visitor_key__in=chunk).order_by("pk"):
            row.contact_id, organisation_id = owners[row.visitor_key]
            if row.organisation_id is None:
                row.organisation_id = organisation_id
            attached.append(row)
    Interaction.objects.bulk_update(attached, ["contact", "organisation"], batch_size=500)
    announce(attached)
    return attached

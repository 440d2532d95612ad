"""Erasure (GDPR art. 17) by anonymisation: the person disappears, the statistics stay.

The contact row stays — its organisation, owner, lifecycle stage, source and dates, so that
counts, pipeline and won revenue add up as before — but every personal column is blanked, the
name becomes "Anonymised contact #id", and the personal values are taken out of everything else
that held them: the audit trail of the contact (diffs, labels, extra data), the audit entries
of records related to it, the proof of its consents (IP, email; the fact of a grant or a
withdrawal remains), and — for a single erasure — any other audit entry quoting its email,
phone or full name. The erasure itself is audited without personal data: who anonymised
contact #id, when, why, through which channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.values import is_id
from cible.people.models import Contact
from cible.people.signals import send_email_opted_out_on_commit
from cible.quality.privacy import hooks, permissions
from cible.quality.privacy.models import (
    ConsentEvent,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from cible.quality.privacy.personal_data import (
    Scrubber,
    history_values,
    personal_fields,
    personal_links,
    relations,
)

ANONYMOUS_NAME = "Anonymised contact #"  # stored data, language-neutral; pages translate it
LOG_FIELDS = ("object_repr", "changes_text", "changes", "additional_data", "serialized_data")
REASON_LIMIT = 500
# The contact's fields whose value names the person on their own (with the full name).
IDENTIFYING_FIELDS = ("email", "secondary_email", "phone", "mobile", "linkedin_url")


@dataclass(frozen=True)
class ErasureCounts:
    contacts: int
    audit_entries: int
    consent_events: int
    other_rows: int

    def as_dict(self) -> dict[str, int]:
        return {
            "contacts": self.contacts,
            "audit_entries": self.audit_entries,
            "consent_events": self.consent_events,
            "other_rows": self.other_rows,
        }


def already_anonymised(contact: Contact) -> ValidationFailed:
    when = date_format(timezone.localtime(contact.anonymised_at), "SHORT_DATETIME_FORMAT")
    return ValidationFailed(
        _("Contact #%(id)s was already anonymised on %(when)s: there is nothing left to erase.")
        % {"id": contact.pk, "when": when}
    )


def contact_erase(*, contact: Contact, actor: Any, channel: str, reason: str) -> PrivacyRequest:
    """Anonymise one person at their request (or a DPO's decision); returns the journal entry.

    Refused, with a message saying so, for a contact already anonymised.
    """
    if not permissions.may_administer(actor, channel):
        raise PermissionDenied(_("Only administrators may erase a person's data."))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed(errors=[FieldError("reason", _("say why the data is erased"))])
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed(
            errors=[
                FieldError("reason", _("at most %(limit)s characters") % {"limit": REASON_LIMIT})
            ]
        )
    if contact.anonymised_at is not None:
        raise already_anonymised(contact)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.anonymised_at is not None:
            raise already_anonymised(locked)
        request = PrivacyRequest.objects.create(
            kind=RequestKind.ERASURE,
            status=RequestStatus.RUNNING,
            contact_ref=contact.pk,
            actor=actor if getattr(actor, "pk", None) else None,
            channel=str(channel),
        )
        counts, scrubber = anonymise(
            [contact.pk], actor=actor, channel=channel, request=request, thorough=True
        )
        request.reason = scrubber.text(reason)[:REASON_LIMIT]
        request.status = RequestStatus.DONE
        request.matched = request.processed = counts.contacts
        request.details = counts.as_dict()
        request.finished_at = timezone.now()
        request.save()
    contact.refresh_from_db()
    return request


def _record_keys(contact_type: ContentType, ids: Sequence[int]) -> dict[str, int]:
    """The audit keys (object_pk) whose history is the person's: their own contacts, and the
    duplicates merged into them (the merge marks the deleted record's entry `merged_into`),
    mapped to the contact they ended up in."""
    owners = {str(pk): pk for pk in ids}
    frontier = list(ids)
    for _depth in range(10):  # a chain of merges into merges; ten is already unusual
        merged = LogEntry.objects.filter(
            content_type=contact_type,
            action=LogEntry.Action.DELETE,
            additional_data__merged_into__in=frontier,
        ).values_list("object_pk", "additional_data")
        found = {pk: owners[str(data["merged_into"])] for pk, data in merged if pk not in owners}
        if not found:
            break
        owners.update(found)
        frontier = [int(pk) for pk in found if is_id(pk)]
    return owners


def _scrubbers(
    rows: Sequence[dict[str, Any]],
    entries: Sequence[LogEntry],
    owners: dict[str, int],
    fields: list[str],
) -> tuple[dict[int, Scrubber], Scrubber, Scrubber]:
    """Per contact: every value its personal fields hold or ever held (from its audit diffs)
    and its consent proofs. Also one scrubber for the whole batch, and one with only the
    values that identify a person on their own (emails, phones, full names) for the sweep."""
    values: dict[int, set[str]] = defaultdict(set)
    distinctive: set[str] = set()
    for row in rows:
        pk = row["id"]
        for name in fields:
            if row.get(name):
                values[pk].add(str(row[name]))
        first, last = row.get("first_name") or "", row.get("last_name") or ""
        for full in (f"{first} {last}", f"{last} {first}"):
            if first and last:
                values[pk].add(full)
                distinctive.add(full)
        for name in IDENTIFYING_FIELDS:
            if row.get(name):
                distinctive.add(str(row[name]))
    for entry in entries:
        values[owners[entry.object_pk]].update(history_values(entry.changes, fields))
        distinctive.update(history_values(entry.changes, IDENTIFYING_FIELDS))
        distinctive.update(_full_names(entry.changes))
    for pk, email, ip in ConsentEvent.objects.filter(
        contact_id__in=[r["id"] for r in rows]
    ).values_list("contact_id", "proof_email", "proof_ip"):
        for value in (email, ip):
            if value:
                values[pk].add(value)
                distinctive.add(value)
    keys = [*fields, *personal_links()]
    per_contact = {pk: Scrubber(found, keys) for pk, found in values.items()}
    everything = Scrubber({v for found in values.values() for v in found}, identifying=distinctive)
    return per_contact, everything, Scrubber(distinctive)


def _full_names(changes: Any) -> list[str]:
    """The full name a history entry gave the contact (a duplicate merged into the person
    was created under its own spelling)."""
    if not isinstance(changes, dict):
        return []
    first = list(history_values(changes, ["first_name"]))
    last = list(history_values(changes, ["last_name"]))
    if not first or not last:
        return []
    return [f"{first[-1]} {last[-1]}", f"{last[-1]} {first[-1]}"]


def _rewrite(entry: LogEntry, scrubber: Scrubber) -> bool:
    changed = False
    for name in LOG_FIELDS:
        before = getattr(entry, name)
        if before in (None, "", {}):
            continue
        after = scrubber.text(before) if isinstance(before, str) else scrubber.json(before)
        if after != before:
            setattr(entry, name, after)
            changed = True
    return changed


def _mentioning(strings: Sequence[str]) -> Q:
    query = Q()
    for value in strings:
        for name in LOG_FIELDS:
            query |= Q(**{f"{name}__icontains": value})
    return query


def anonymise(
    contact_ids: Sequence[int],
    *,
    actor: Any,
    channel: str,
    request: PrivacyRequest,
    thorough: bool,
) -> tuple[ErasureCounts, Scrubber]:
    """Anonymise the contacts of `contact_ids` not anonymised yet, inside the caller's
    transaction. `thorough` also sweeps every audit entry for their emails, phones and full
    names (a scan of the whole log: for single erasures, not for batches)."""
    fields = personal_fields()
    contact_type = ContentType.objects.get_for_model(Contact)
    rows = list(
        Contact.objects.select_for_update()
        .filter(pk__in=list(contact_ids), anonymised_at__isnull=True)
        .values("id", *fields)
    )
    ids = [row["id"] for row in rows]
    if not ids:
        return ErasureCounts(0, 0, 0, 0), Scrubber(())
    owners = _record_keys(contact_type, ids)
    own_entries = list(LogEntry.objects.filter(content_type=contact_type, object_pk__in=owners))
    per_contact, everything, distinctive = _scrubbers(rows, own_entries, owners, fields)
    now = timezone.now()

    blank: dict[str, Any] = {name: "" for name in fields if name != "last_name"}
    blank.update({name: None for name in personal_links()})
    Contact.objects.filter(pk__in=ids).update(
        **blank,
        last_name=Concat(Value(ANONYMOUS_NAME), Cast("id", CharField())),
        anonymised_at=now,
        email_opt_out=True,
        phone_opt_out=True,
        email_consent="withdrawn",
        opted_out_at=Coalesce(F("opted_out_at"), Value(now)),
        version=F("version") + 1,
        updated_at=now,
    )
    send_email_opted_out_on_commit(ids)  # the nurture lets them go at once

    touched: dict[int, LogEntry] = {}
    for entry in own_entries:
        scrubber = per_contact.get(owners[entry.object_pk], everything)
        changed = _rewrite(entry, scrubber)
        label = f"{ANONYMOUS_NAME}{entry.object_pk}"
        if entry.object_repr != label:
            entry.object_repr, changed = label, True
        if changed:
            touched[entry.pk] = entry
    done = {entry.pk for entry in own_entries}
    for relation in relations(include_own=False):
        related_ids = [str(pk) for pk in relation.rows(ids).values_list("pk", flat=True)]
        if not related_ids:
            continue
        related_type = ContentType.objects.get_for_model(relation.model)
        for entry in LogEntry.objects.filter(content_type=related_type, object_pk__in=related_ids):
            done.add(entry.pk)
            if _rewrite(entry, everything):
                touched[entry.pk] = entry
    if thorough and distinctive.strings:
        for entry in LogEntry.objects.filter(_mentioning(distinctive.strings)).exclude(pk__in=done):
            if _rewrite(entry, everything):
                touched[entry.pk] = entry
    if touched:
        LogEntry.objects.bulk_update(list(touched.values()), list(LOG_FIELDS), batch_size=200)

    events = ConsentEvent.objects.filter(contact_id__in=ids)
    consent_count = events.update(proof_ip=None, proof_email="", note="")
    rewritten = []
    for event in events.only("id", "proof_form", "proof_text", "proof_reference"):
        form, text, reference = (
            everything.text(event.proof_form),
            everything.text(event.proof_text),
            everything.text(event.proof_reference),
        )
        if (form, text, reference) != (event.proof_form, event.proof_text, event.proof_reference):
            ConsentEvent.objects.filter(pk=event.pk).update(
                proof_form=form, proof_text=text, proof_reference=reference
            )
            rewritten.append(event.pk)
    other_rows = sum(eraser(ids, everything) for eraser in hooks.erasers())

    _log_erasures(ids, actor=actor, channel=channel, request=request, now=now)
    counts = ErasureCounts(
        contacts=len(ids),
        audit_entries=len(touched),
        consent_events=consent_count,
        other_rows=other_rows,
    )
    return counts, everything


def _log_erasures(
    ids: Sequence[int], *, actor: Any, channel: str, request: PrivacyRequest, now: Any
) -> None:
    """One audit entry per anonymised contact, with nothing personal in it."""
    contact_type = ContentType.objects.get_for_model(Contact)
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    action = "erasure" if request.kind == RequestKind.ERASURE else "retention"
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=contact_type,
                object_pk=str(pk),
                object_id=pk,
                object_repr=f"{ANONYMOUS_NAME}{pk}",
                action=LogEntry.Action.UPDATE,
                changes={"anonymised_at": ["None", now.isoformat()]},
                actor_id=actor_id,
                timestamp=now,
                additional_data={
                    "channel": str(channel),
                    "privacy": {"action": action, "request": request.pk},
                },
            )
            for pk in ids
        ],
        batch_size=500,
    )

"""Consent changed outside this app becomes consent history too.

The contact form and the API's contact fields can still tick "opted out of emails" or set the
email consent. Every such change leaves an audit entry; this receiver turns it into a
channel-wide `ConsentEvent` (source: the channel; proof: who, when and the audit entry), so that
the history is complete and `may_contact` hears it, whichever way the change came in. An
opt-out of email is also announced to the apps above (`people.signals.email_opted_out`).
"""

from __future__ import annotations

import json
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from django.utils.translation import gettext_noop

from cible.core.values import is_id
from cible.people.models import Contact
from cible.people.signals import send_email_opted_out_on_commit
from cible.quality.privacy import consents, services
from cible.quality.privacy.models import ConsentEvent

# Stored, not shown: the proof names the path the change took (kept in English in the data).
RECORD_FORM = gettext_noop("Contact record (summary consent fields)")


def _changes(entry: LogEntry) -> dict[str, Any]:
    changes = entry.changes
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            return {}
    return changes if isinstance(changes, dict) else {}


def record_from_log_entry(sender: type, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created or services.in_own_write():
        return
    if instance.action not in (LogEntry.Action.CREATE, LogEntry.Action.UPDATE):
        return
    if instance.content_type_id != ContentType.objects.get_for_model(Contact).pk:
        return
    changes = _changes(instance)
    implied = consents.implied_by_record_change(
        changes, created=instance.action == LogEntry.Action.CREATE
    )
    if not implied or not is_id(instance.object_pk):
        return
    opt_out = changes.get("email_opt_out")
    if isinstance(opt_out, list | tuple) and len(opt_out) == 2 and str(opt_out[1]) == "True":
        send_email_opted_out_on_commit([int(instance.object_pk)])
    channel = str((instance.additional_data or {}).get("channel") or "ui")
    source = consents.SOURCE_OF_CHANNEL.get(channel, "ui")
    for medium, status in implied:
        event = ConsentEvent(
            contact_id=int(instance.object_pk),
            channel=medium,
            purpose=None,
            status=status,
            source=source,
            occurred_at=instance.timestamp,
            recorded_by_id=instance.actor_id,
            proof_form=RECORD_FORM,
            proof_reference=f"audit entry #{instance.pk}",
        )
        event.save()


def connect() -> None:
    post_save.connect(
        record_from_log_entry, sender=LogEntry, dispatch_uid="cible-privacy-consent-from-audit"
    )

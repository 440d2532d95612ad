"""Subject-access export (GDPR art. 15): everything held about a person, in one zip.

One JSON and one CSV file per kind of record — the contact, its consents and their history with
proof, its audit history, the privacy requests about it, and every record related to it, found
through `Contact._meta.related_objects` so that records added by later apps come along without
a change here — plus a README saying what each file holds. Exports are audited: who exported
whom, when, through which channel.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import ACTION_LABELS
from cible.core.csv_export import neutralise
from cible.core.errors import PermissionDenied
from cible.people.models import Contact
from cible.quality.privacy import permissions
from cible.quality.privacy.models import (
    ConsentEvent,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from cible.quality.privacy.personal_data import relations

Row = dict[str, Any]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    request: PrivacyRequest
    files: dict[str, int]  # kind → rows


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict | list):
        return value
    return str(value)


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _record(obj: models.Model, *, hide: Iterable[str] = ()) -> Row:
    """Every column of `obj`; links as ids (and a user's name, a contact's id only: another
    person's details are theirs, not the requester's)."""
    hidden = set(hide)
    row: Row = {}
    for field in obj._meta.concrete_fields:
        if field.name in hidden:
            continue
        if field.is_relation:
            row[f"{field.name}_id"] = getattr(obj, field.attname)
            target = field.related_model
            if target is not None and target._meta.label == "auth.User":
                row[field.name] = _user_name(getattr(obj, field.name))
        else:
            row[field.name] = _plain(getattr(obj, field.attname))
    return row


def _contact_rows(contact: Contact) -> list[Row]:
    row = _record(contact)
    row["organisation_name"] = contact.organisation.display_name if contact.organisation else ""
    return [row]


def _consent_rows(contact: Contact) -> list[Row]:
    from cible.quality.privacy.selectors import current_consents

    states = current_consents(contact).values()
    return [
        {
            "channel": s.channel,
            "purpose": s.purpose.name if s.purpose else _("all purposes"),
            "purpose_code": s.purpose.code if s.purpose else "",
            "status": s.status,
            "since": _plain(s.occurred_at),
            "event_id": s.pk,
        }
        for s in states
    ]


def _consent_history_rows(contact: Contact) -> list[Row]:
    events = (
        ConsentEvent.objects.filter(contact=contact)
        .select_related("purpose", "recorded_by", "api_token")
        .order_by("occurred_at", "id")
    )
    return [
        {
            "id": e.pk,
            "channel": e.channel,
            "purpose": e.purpose.name if e.purpose else _("all purposes"),
            "purpose_code": e.purpose.code if e.purpose else "",
            "status": e.status,
            "source": e.source,
            "occurred_at": _plain(e.occurred_at),
            "recorded_at": _plain(e.recorded_at),
            "recorded_by": _user_name(e.recorded_by),
            "proof_form": e.proof_form,
            "proof_text": e.proof_text,
            "proof_ip": e.proof_ip or "",
            "proof_email": e.proof_email,
            "proof_reference": e.proof_reference,
            "import_run": e.import_run,
            "import_row": e.import_row,
            "api_token": str(e.api_token) if e.api_token else "",
            "note": e.note,
        }
        for e in events
    ]


def _audit_rows(contact: Contact) -> list[Row]:
    entries = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact), object_pk=str(contact.pk)
        )
        .select_related("actor")
        .order_by("timestamp", "id")
    )
    return [
        {
            "timestamp": _plain(e.timestamp),
            "action": str(ACTION_LABELS.get(e.action, e.action)),
            "by": _user_name(e.actor),
            "channel": (e.additional_data or {}).get("channel", ""),
            "changes": e.changes or {},
        }
        for e in entries
    ]


def _request_rows(contact: Contact) -> list[Row]:
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "status": r.status,
            "requested_at": _plain(r.created_at),
            "finished_at": _plain(r.finished_at),
            "by": _user_name(r.actor),
            "channel": r.channel,
        }
        for r in PrivacyRequest.objects.filter(contact_ref=contact.pk).select_related("actor")
    ]


def _access_controlled(model: type[models.Model]) -> bool:
    """Records the access policy rules (they name an owner), as opposed to plain child rows."""
    owner = getattr(model, "access_owner_field", None)
    return owner is not None and any(f.name == owner for f in model._meta.concrete_fields)


def _related(contact: Contact, viewer: Any, channel: str) -> dict[str, list[Row]]:
    """Records of every model that points at the contact, as far as the exporter may see them."""
    found: dict[str, list[Row]] = {}
    system = permissions.is_system(viewer, channel)
    for relation in relations(include_own=False):
        qs = relation.rows([contact.pk])
        model = relation.model
        if _access_controlled(model) and not system:
            qs = access.visible(viewer, qs)
        hide: list[str] = []
        if getattr(model, "access_kind", "") == "pipeline" and not (
            system or access.amounts_visible(viewer)
        ):
            hide = [
                f.name for f in model._meta.concrete_fields if isinstance(f, models.DecimalField)
            ]
        rows = [_record(obj, hide=hide) for obj in qs.distinct().order_by("pk")[:10_000]]
        if rows:
            found[relation.label] = rows
    return found


def _csv(rows: Sequence[Row]) -> bytes:
    headers: list[str] = []
    for row in rows:
        headers.extend(k for k in row if k not in headers)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [
                neutralise(
                    json.dumps(row.get(h), ensure_ascii=False)
                    if isinstance(row.get(h), dict | list)
                    else row.get(h)
                )
                for h in headers
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _readme(contact: Contact, viewer: Any, files: dict[str, int], complete: bool) -> str:
    now = timezone.localtime()
    lines = [
        _("Subject-access export of contact #%(id)s") % {"id": contact.pk},
        "=" * 60,
        "",
        _("Generated on %(when)s by %(who)s.")
        % {"when": now.strftime("%Y-%m-%d %H:%M %Z"), "who": _user_name(viewer) or _("the system")},
        "",
        _(
            "This archive holds everything Cible stores about this person. Each kind of record "
            "comes twice: as JSON (exact values) and as CSV (for a spreadsheet; cells that "
            "start like a formula are prefixed with an apostrophe)."
        ),
        "",
        _("Files:"),
    ]
    descriptions = {
        "contact": _("the contact record, with the name of its organisation"),
        "consents": _("current consents, per channel and purpose"),
        "consent_history": _("every consent, withdrawal or refusal, with its source and proof"),
        "audit_history": _("every recorded change of the contact: when, by whom, what"),
        "privacy_requests": _("exports and erasures requested about this person"),
    }
    for kind, count in files.items():
        described = descriptions.get(kind) or _("related records: %(kind)s") % {"kind": kind}
        lines.append(f"- {kind}.json / {kind}.csv: {described} ({count})")
    if not complete:
        lines += [
            "",
            _(
                "Related records the exporter is not allowed to see were left out; an "
                "administrator's export is complete."
            ),
        ]
    return "\n".join(lines) + "\n"


def build_export(contact: Contact, viewer: Any, channel: str) -> tuple[bytes, dict[str, int]]:
    """The zip's bytes and the number of rows per kind (no audit: see `contact_export`)."""
    kinds: dict[str, list[Row]] = {
        "contact": _contact_rows(contact),
        "consents": _consent_rows(contact),
        "consent_history": _consent_history_rows(contact),
        "audit_history": _audit_rows(contact),
        "privacy_requests": _request_rows(contact),
    }
    kinds.update(_related(contact, viewer, channel))
    files = {kind: len(rows) for kind, rows in kinds.items()}
    complete = permissions.is_system(viewer, channel) or access.can(viewer, "administer")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(contact, viewer, files, complete))
        for kind, rows in kinds.items():
            archive.writestr(
                f"{kind}.json", json.dumps(rows, ensure_ascii=False, indent=2, default=str)
            )
            archive.writestr(f"{kind}.csv", _csv(rows))
    return buffer.getvalue(), files


def contact_export(*, contact: Contact, actor: Any, channel: str) -> ExportFile:
    """Everything held about `contact`, for the person who asked (admins and the owner)."""
    if not permissions.may_export(actor, contact, channel):
        raise PermissionDenied(
            _("Only administrators and the contact's owner may export a person's data.")
        )
    content, files = build_export(contact, actor, channel)
    now = timezone.now()
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=RequestKind.EXPORT,
            status=RequestStatus.DONE,
            contact_ref=contact.pk,
            actor=actor if getattr(actor, "pk", None) else None,
            channel=str(channel),
            matched=1,
            processed=sum(files.values()),
            details={"files": files, "bytes": len(content)},
            finished_at=now,
        )
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(Contact),
            object_pk=str(contact.pk),
            object_id=contact.pk,
            object_repr=f"Contact #{contact.pk}",
            action=LogEntry.Action.ACCESS,
            changes={},
            actor=actor if getattr(actor, "pk", None) else None,
            additional_data={
                "channel": str(channel),
                "privacy": {"action": "export", "request": request.pk, "files": files},
            },
        )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return ExportFile(
        filename=f"subject-access-contact-{contact.pk}-{stamp}.zip",
        content=content,
        request=request,
        files=files,
    )

"""Who did what, through which channel.

django-auditlog records every create, change and delete of registered models. Services run
their writes inside `audit_context(actor=…, channel=…)`; one receiver stamps each log entry
with that actor and channel, so the UI, the API, the CLI, imports and jobs are told apart
without each caller remembering to do it. Exports and merges are logged explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    UI = "ui", _("UI")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    JOB = "job", _("Background job")


# What happened to a record, by django-auditlog's action number, for history pages
# (auditlog's own labels are English only). An access entry is an export (see log_export).
ACTION_LABELS = {
    LogEntry.Action.CREATE: pgettext_lazy("audit action", "created"),
    LogEntry.Action.UPDATE: pgettext_lazy("audit action", "changed"),
    LogEntry.Action.DELETE: pgettext_lazy("audit action", "deleted"),
    LogEntry.Action.ACCESS: pgettext_lazy("audit action", "exported"),
}


@dataclass(frozen=True)
class AuditContext:
    actor: Any
    channel: str


_current: ContextVar[AuditContext | None] = ContextVar("cible_audit", default=None)


@contextlib.contextmanager
def audit_context(*, actor: Any, channel: str) -> Iterator[None]:
    """Attribute every log entry written inside the block to `actor` via `channel`."""
    token = _current.set(AuditContext(actor=actor, channel=str(channel)))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> AuditContext | None:
    return _current.get()


def _stamp(sender: type, instance: LogEntry, **kwargs: Any) -> None:
    context = _current.get()
    if context is None:
        return
    actor = context.actor
    if instance.actor_id is None and actor is not None and getattr(actor, "pk", None):
        instance.actor = actor
        instance.actor_email = getattr(actor, "email", None)
    data = dict(instance.additional_data or {})
    data.setdefault("channel", context.channel)
    instance.additional_data = data


def register(
    model: type[models.Model], *, exclude: tuple[str, ...] = (), m2m: tuple[str, ...] = ()
) -> None:
    """Log changes of `model`'s own columns (and the named many-to-many fields).

    Listing the concrete fields keeps reverse relations, the primary key, timestamps and
    `version` out of the diffs: history shows what people changed, nothing else.
    """
    from auditlog.registry import auditlog

    skipped = {"id", "created_at", "updated_at", "version", *exclude}
    fields = [f.name for f in model._meta.concrete_fields if f.name not in skipped]
    auditlog.register(model, include_fields=fields, m2m_fields=set(m2m))


def connect() -> None:
    pre_save.connect(_stamp, sender=LogEntry, dispatch_uid="cible-audit-stamp")


def log_export(
    *, actor: Any, channel: str, model: type[models.Model], rows: int, query: str
) -> LogEntry:
    """One entry per export: who took which rows of which list out of the system."""
    with audit_context(actor=actor, channel=channel):
        return LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk="",
            object_repr=f"export of {rows} {model._meta.verbose_name_plural}",
            action=LogEntry.Action.ACCESS,
            changes={},
            additional_data={"export": {"rows": rows, "query": query[:2000]}},
        )


def history(obj: models.Model) -> models.QuerySet[LogEntry]:
    """Log entries of one record, newest first."""
    return LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp")

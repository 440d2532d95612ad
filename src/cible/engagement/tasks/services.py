"""Every write to tasks (notifications: `notifications.py`).

Machines create most tasks (a nurture step, an SLA escalation) and may run twice: a `key` makes
each of those writes idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from cible.core import access
from cible.core.audit import audit_context
from cible.core.bulk import bulk_insert, log_bulk
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.engagement.interactions.models import InteractionChannel, InteractionKind
from cible.engagement.interactions.services import record_interaction
from cible.engagement.tasks import policy
from cible.engagement.tasks.models import Task, TaskKind
from cible.engagement.tasks.notifications import Text, notify, notify_each, pk_of
from cible.people.models import Contact, Organisation
from cible.people.references import resolve_owner, resolve_visible

logger = logging.getLogger(__name__)


# What a task that "happened" records on the timeline, and with which outcome.
INTERACTION_OF = {
    TaskKind.CALL: (InteractionKind.CALL, "connected"),
    TaskKind.MEETING: (InteractionKind.MEETING, "held"),
}
# Audit channels to the interaction channels they arrive through.
INTERACTION_CHANNEL = {"ui": "ui", "api": "api", "import": "import", "job": "job", "cli": "job"}
KEY_BATCH = 5_000


@dataclass(frozen=True)
class TaskRow:
    """One task of `create_tasks`; references may be objects or ids."""

    assignee: Any
    title: str
    due_at: dt.datetime | None = None
    kind: str = TaskKind.FOLLOW_UP
    note: str = ""
    contact: Any = None
    organisation: Any = None
    source: str = ""
    key: str | None = None


def _check(
    *, title: str, kind: str, note: str, source: str, key: str | None, due_at: Any
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not title.strip():
        errors.append(FieldError("title", _("say what is to be done")))
    elif len(title) > 200:
        errors.append(FieldError("title", _("at most 200 characters")))
    if kind not in TaskKind.values:
        allowed = ", ".join(TaskKind.values)
        errors.append(
            FieldError(
                "kind",
                _("“%(value)s” is not a kind of task (use %(allowed)s)")
                % {"value": kind, "allowed": allowed},
            )
        )
    if len(note) > 5000:
        errors.append(FieldError("note", _("at most 5,000 characters")))
    if len(source) > 100:
        errors.append(FieldError("source", _("at most 100 characters")))
    if key is not None and not 0 < len(key) <= 200:
        errors.append(FieldError("key", _("between 1 and 200 characters")))
    if due_at is not None and (not isinstance(due_at, dt.datetime) or timezone.is_naive(due_at)):
        errors.append(FieldError("due_at", _("a date and time with its time zone")))
    return errors


def _interaction_channel(channel: str) -> str:
    return INTERACTION_CHANNEL.get(str(channel), InteractionChannel.JOB)


def create_task(
    *,
    assignee: Any,
    title: str,
    actor: Any,
    channel: str,
    due_at: dt.datetime | None = None,
    kind: str = TaskKind.FOLLOW_UP,
    note: str = "",
    contact: Contact | None = None,
    organisation: Organisation | None = None,
    source: str = "",
    key: str | None = None,
) -> Task:
    """One task for `assignee`; the same `key` twice returns the task stored the first time.

    `actor` None is a machine (a nurture step, an SLA sweep). A person may give tasks to
    themselves, their teammates and the teams they manage, about records they can see.
    """
    if key is not None and (stored := Task.objects.filter(key=key).first()) is not None:
        return stored
    errors = _check(title=title, kind=kind, note=note, source=source, key=key, due_at=due_at)
    if assignee is None or not getattr(assignee, "is_active", False):
        errors.append(FieldError("assignee", _("choose an active user")))
    if errors:
        raise ValidationFailed(errors=errors)
    if not policy.may_assign(actor, assignee.pk):
        raise PermissionDenied(_("You may not give tasks to %(user)s.") % {"user": assignee})
    for record in (contact, organisation):
        if actor is not None and record is not None and not access.can(actor, "view", record):
            raise PermissionDenied(_("You may not see %(record)s.") % {"record": record})
    if organisation is None and contact is not None:
        organisation = contact.organisation
    task = Task(
        assignee=assignee,
        title=title.strip(),
        note=note.strip(),
        kind=kind,
        due_at=due_at,
        contact=contact,
        organisation=organisation,
        source=source,
        key=key,
        created_by=actor,
    )
    try:
        with transaction.atomic(), audit_context(actor=actor, channel=channel):
            task.save()
            if actor is not None and actor.pk != assignee.pk:
                _tell_assignee(task, by=actor)
    except IntegrityError:
        # The same key stored by a concurrent call between our look-up and our insert.
        stored = Task.objects.filter(key=key).first() if key is not None else None
        if stored is None:
            raise
        return stored
    return task


def task_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> tuple[Task, bool]:
    """A task from the API's ids; returns it and whether it is new (False: its key was known).

    A key already used by a task the actor may not see is refused rather than revealing it.
    """
    key = data.get("key")
    if key is not None:
        stored = Task.objects.filter(key=key).first()
        if stored is not None:
            if not policy.may_handle(actor, stored.assignee_id):
                raise ConflictError(
                    errors=[FieldError("key", _("already used by a task you may not see"))]
                )
            return stored, False
    errors: list[FieldError] = []
    assignee = actor
    if data.get("assignee") is not None:
        assignee = resolve_owner(data["assignee"], errors)
    contact = resolve_visible(Contact, data.get("contact"), "contact", actor, errors)
    organisation = resolve_visible(
        Organisation, data.get("organisation"), "organisation", actor, errors
    )
    if errors:
        raise ValidationFailed(
            errors=[FieldError(_owner_field(e.field), e.message) for e in errors]
        )
    task = create_task(
        assignee=assignee,
        title=str(data.get("title") or ""),
        actor=actor,
        channel=channel,
        due_at=data.get("due_at"),
        kind=str(data.get("kind") or TaskKind.FOLLOW_UP),
        note=str(data.get("note") or ""),
        contact=contact,
        organisation=organisation,
        source=str(data.get("source") or "api"),
        key=key,
    )
    return task, True


def _owner_field(field: str) -> str:
    return "assignee" if field == "owner" else field


def _tell_assignee(task: Task, *, by: Any) -> None:
    notify(
        users=[task.assignee],
        title=translation.gettext_lazy("A task for you"),
        body=f"{task.title} ({by.get_full_name() or by.get_username()})",
        url="/tasks/",
        key=f"task:{task.pk}:to:{task.assignee_id}",
    )


def create_tasks(
    *, rows: Sequence[TaskRow], channel: str, actor: Any = None, origin: Text | None = None
) -> int:
    """Insert many tasks in one set-based write; rows whose key exists (or repeats) are skipped.

    Meant for machines (nurture steps over thousands of contacts): rows are checked for shape,
    not for the actor's rights. Returns the number of tasks created. With `origin` (what gave
    them, e.g. a program's name), each assignee of the tasks created here — never of skipped
    ones, so a re-run tells nobody twice — gets one notification saying how many.
    """
    errors: list[FieldError] = []
    for index, row in enumerate(rows):
        for error in _check(
            title=row.title,
            kind=row.kind,
            note=row.note,
            source=row.source,
            key=row.key,
            due_at=row.due_at,
        ):
            errors.append(FieldError(f"rows.{index}.{error.field}", error.message))
        if row.assignee is None:
            errors.append(FieldError(f"rows.{index}.assignee", _("choose an active user")))
    if errors:
        raise ValidationFailed(errors=errors)
    contact_orgs = _organisations_of({pk_of(r.contact) for r in rows if r.organisation is None})
    now = timezone.now()
    created_by = pk_of(actor)
    for _attempt in range(3):
        fresh = _without_known_keys(rows)
        values = [
            (
                pk_of(row.assignee),
                row.title.strip(),
                row.note.strip(),
                row.kind,
                row.due_at,
                pk_of(row.contact),
                pk_of(row.organisation)
                if row.organisation is not None
                else contact_orgs.get(pk_of(row.contact)),
                row.source,
                row.key,
                created_by,
                now,
            )
            for row in fresh
        ]
        try:
            with transaction.atomic():
                written = bulk_insert(Task, COLUMNS, values)
                if written:
                    log_bulk(actor=actor, channel=channel, model=Task, rows=written)
                if written and origin is not None:
                    _tell_assignees_of(fresh, origin=origin)
            return written
        except IntegrityError:
            continue  # a concurrent writer stored some of these keys: look again
    raise ConflictError(_("Tasks with the same keys are being created elsewhere; try again."))


def _tell_assignees_of(rows: Sequence[TaskRow], *, origin: Text) -> int:
    """One notification per assignee of `rows`: how many tasks, which, and where from."""
    by_assignee: dict[int, list[str]] = {}
    for row in rows:
        if (pk := pk_of(row.assignee)) is not None:
            by_assignee.setdefault(pk, []).append(row.title.strip())
    notes: dict[int, tuple[Text, Text]] = {}
    for pk, titles in by_assignee.items():
        title = format_lazy(
            ngettext_lazy("{count} new task for you", "{count} new tasks for you", len(titles)),
            count=len(titles),
        )
        named = ", ".join(sorted(set(titles))[:3]) + ("…" if len(set(titles)) > 3 else "")
        notes[pk] = (title, format_lazy("{titles} ({origin})", titles=named, origin=origin))
    return notify_each(notes=notes, url="/tasks/")


COLUMNS = [
    "assignee_id",
    "title",
    "note",
    "kind",
    "due_at",
    "contact_id",
    "organisation_id",
    "source",
    "key",
    "created_by_id",
    "created_at",
]


def _organisations_of(contact_ids: set[int | None]) -> dict[int | None, int | None]:
    ids: list[int] = [pk for pk in contact_ids if pk is not None]
    found: dict[int | None, int | None] = {}
    for start in range(0, len(ids), KEY_BATCH):
        chunk = ids[start : start + KEY_BATCH]
        found.update(Contact.objects.filter(pk__in=chunk).values_list("pk", "organisation_id"))
    return found


def _without_known_keys(rows: Sequence[TaskRow]) -> list[TaskRow]:
    keys = [r.key for r in rows if r.key is not None]
    known: set[str] = set()
    for start in range(0, len(keys), KEY_BATCH):
        chunk = keys[start : start + KEY_BATCH]
        known.update(
            k for k in Task.objects.filter(key__in=chunk).values_list("key", flat=True) if k
        )
    fresh = []
    for row in rows:
        if row.key is not None:
            if row.key in known:
                continue
            known.add(row.key)  # the same key twice in one call: the first row wins
        fresh.append(row)
    return fresh


def complete_task(
    *, task: Task, actor: Any, outcome: str = "", channel: str, happened: bool = False
) -> Task:
    """Mark `task` done with what came of it. `happened` on a call or meeting task about a
    contact or an organisation also records that call or meeting on their timeline."""
    if not policy.may_handle(actor, task.assignee_id):
        raise PermissionDenied(_("You may not complete this task."))
    outcome = outcome.strip()
    if len(outcome) > 2000:
        raise ValidationFailed(errors=[FieldError("outcome", _("at most 2,000 characters"))])
    with transaction.atomic(), audit_context(actor=actor, channel=channel):
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.done_at is not None:
            raise ConflictError(
                _("This task was already done on %(when)s.")
                % {"when": timezone.localtime(locked.done_at).strftime("%Y-%m-%d %H:%M")}
            )
        locked.done_at = timezone.now()
        locked.outcome = outcome
        locked.save(update_fields=["done_at", "outcome"])
        interaction = INTERACTION_OF.get(TaskKind(locked.kind))
        if happened and interaction and (locked.contact_id or locked.organisation_id):
            kind, result = interaction
            record_interaction(
                kind=kind,
                contact=locked.contact,
                organisation=locked.organisation,
                owner=locked.assignee,
                outcome=result,
                subject=locked.title,
                notes=outcome,
                channel=_interaction_channel(channel),
                actor=actor,
            )
    task.done_at, task.outcome = locked.done_at, locked.outcome
    return task


def reassign_task(*, task: Task, assignee: Any, actor: Any, channel: str) -> Task:
    """Give an open task to someone else, who is told in the app."""
    if not policy.may_handle(actor, task.assignee_id):
        raise PermissionDenied(_("You may not reassign this task."))
    if assignee is None or not getattr(assignee, "is_active", False):
        raise ValidationFailed(errors=[FieldError("assignee", _("choose an active user"))])
    if not policy.may_assign(actor, assignee.pk):
        raise PermissionDenied(_("You may not give tasks to %(user)s.") % {"user": assignee})
    if task.done_at is not None:
        raise ConflictError(_("This task is already done."))
    if assignee.pk == task.assignee_id:
        return task
    with transaction.atomic(), audit_context(actor=actor, channel=channel):
        task.assignee = assignee
        task.save(update_fields=["assignee"])
        if actor is None or actor.pk != assignee.pk:
            _tell_assignee(task, by=actor or assignee)
    return task


def task_reassign_to(*, task: Task, assignee_id: int, actor: Any, channel: str) -> Task:
    """`reassign_task` to a user id (the API)."""
    errors: list[FieldError] = []
    assignee = resolve_owner(assignee_id, errors)
    if errors:
        raise ValidationFailed(errors=[FieldError("assignee", e.message) for e in errors])
    return reassign_task(task=task, assignee=assignee, actor=actor, channel=channel)

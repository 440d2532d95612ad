"""Tasks for people and in-app notifications.

A task is something one person must do about a contact or an organisation ("call this contact who
clicked"). Machines create most of them (nurture steps, SLA escalations): the optional `key` makes
that idempotent, so a step run twice creates one task.

A notification tells one user that something happened and where to look (`url`). Its optional
`key` makes "notify the manager of this breach" safe to repeat: one row per (user, key).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.people.models import Contact, Organisation


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    FOLLOW_UP = "follow_up", _("Follow-up")
    OTHER = "other", _("Other")


class Task(models.Model):
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # the (assignee, done_at, due_at) index serves every lookup
    )
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True, max_length=5000)
    kind = models.CharField(
        _("kind"), max_length=20, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    # What created the task ("nurture:12", "sla", "manual"): shown to the assignee.
    source = models.CharField(_("source"), max_length=100, blank=True)
    key = models.CharField(_("key"), max_length=200, null=True, blank=True, unique=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # "My open tasks by due date": open rows only, in due order.
            models.Index(
                fields=["assignee", "due_at"],
                condition=Q(done_at__isnull=True),
                name="task_open_by_assignee",
            ),
            models.Index(fields=["assignee", "done_at"], name="task_assignee_done"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        due = self.due_at
        return self.done_at is None and due is not None and due < (now or timezone.now())


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # covered by the indexes below
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, max_length=5000)
    url = models.CharField(_("link"), max_length=500, blank=True)
    key = models.CharField(_("key"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=Q(key__isnull=False), name="notification_once"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "created_at"], name="notification_user_time"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

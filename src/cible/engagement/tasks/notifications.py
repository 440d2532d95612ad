"""Notifications: in the app first, by email too when asked.

The in-app rows are written in the caller's transaction; their optional email is sent after it
commits and never raises into the caller, so a mail server that is down loses no notification
and breaks no sweep (an SLA escalation, a nurture step).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.engagement.tasks.models import Notification

logger = logging.getLogger(__name__)

Text = str | Promise  # a lazy string is rendered in each recipient's language


def pk_of(value: Any) -> int | None:
    """A record's id, whether given the record or its id."""
    return None if value is None else int(getattr(value, "pk", value))


def _users(users: Iterable[Any]) -> list[Any]:
    ids = {pk for u in users if (pk := pk_of(u)) is not None}
    User = get_user_model()
    return list(
        User.objects.filter(pk__in=ids, is_active=True).select_related("profile").order_by("pk")
    )


def _language(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return profile.language if profile is not None else settings.LANGUAGE_CODE


def notify(
    *,
    users: Iterable[Any],
    title: Text,
    body: Text = "",
    url: str = "",
    email: bool = False,
    key: str | None = None,
) -> int:
    """Tell `users` (objects or ids) in the app, and by email when `email`; return how many
    notifications were created. The same (user, key) twice notifies nobody the second time.

    `title` and `body` may be lazy strings (`gettext_lazy`, `format_lazy`): each user reads
    them in their own language. `url` is a path on this site ("/leads/12/").
    """
    return notify_each(notes=dict.fromkeys(users, (title, body)), url=url, email=email, key=key)


def notify_each(
    *,
    notes: Mapping[Any, tuple[Text, Text]],
    url: str = "",
    email: bool = False,
    key: str | None = None,
) -> int:
    """`notify` for many users at once, each with their own (title, body): `notes` maps a user
    (object or id) to theirs. A fixed number of queries however many users."""
    if url and (not url.startswith("/") or url.startswith("//")):
        raise ValidationFailed(errors=[FieldError("url", _("a path on this site, like /leads/"))])
    if key is not None and not 0 < len(key) <= 200:
        raise ValidationFailed(errors=[FieldError("key", _("between 1 and 200 characters"))])
    wording = {pk_of(user): note for user, note in notes.items()}
    recipients = _users(notes)
    if key is not None:
        told = set(
            Notification.objects.filter(
                key=key, user_id__in=[u.pk for u in recipients]
            ).values_list("user_id", flat=True)
        )
        recipients = [u for u in recipients if u.pk not in told]
    if not recipients:
        return 0
    rows = []
    for user in recipients:
        title, body = wording[user.pk]
        with translation.override(_language(user)):
            rows.append(
                Notification(
                    user=user, title=str(title)[:200], body=str(body)[:5000], url=url, key=key
                )
            )
    with transaction.atomic():
        # ignore_conflicts: a concurrent call with the same key already told some of them.
        Notification.objects.bulk_create(rows, ignore_conflicts=key is not None)
        if email:
            mailed = [(u, r) for u, r in zip(recipients, rows, strict=True) if u.email]
            transaction.on_commit(lambda: send_emails(mailed))
    return len(rows)


def send_emails(pairs: Sequence[tuple[Any, Notification]]) -> int:
    """Email each (user, notification) through one SMTP connection, in the user's language.

    Never raises: a refused or unreachable server is logged, the in-app notification stays.
    Returns the number of emails the server accepted.
    """
    if not pairs:
        return 0
    sent = 0
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except (OSError, smtplib.SMTPException):
        logger.exception("notification emails: cannot reach the mail server")
        return 0
    try:
        for user, notification in pairs:
            try:
                sent += connection.send_messages([_email(user, notification)]) or 0
            except (OSError, smtplib.SMTPException):
                logger.exception(
                    "notification email to user %s (notification %s) failed",
                    user.pk,
                    notification.pk,
                )
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            logger.warning("notification emails: the connection did not close cleanly")
    return sent


def _email(user: Any, notification: Notification) -> EmailMessage:
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
    with translation.override(_language(user)):
        context = {"user": user, "notification": notification, "link": link}
        text = render_to_string("tasks/email/notification.txt", context)
        subject = _("[Cible] %(title)s") % {"title": notification.title}
    return EmailMessage(subject=subject, body=text, to=[user.email])


def mark_read(*, user: Any, ids: Iterable[int] | None = None, all: bool = False) -> int:
    """Mark `user`'s notifications `ids` (or all of them) read; return how many were unread."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if not all:
        chosen = list(ids or ())
        if not chosen:
            raise ValidationFailed(errors=[FieldError("ids", _("name notifications, or all"))])
        unread = unread.filter(pk__in=chosen)
    return unread.update(read_at=timezone.now())

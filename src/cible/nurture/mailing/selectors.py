"""Reads of the mailing app, through the viewer's access rights: templates, the outbox, one
message with its events, a preview against a real contact, the contacts to preview with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.template import TemplateSyntaxError
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, NotFound, PermissionDenied
from cible.core.normalisers import search_key
from cible.engagement.interactions.models import Interaction
from cible.nurture.mailing import merge, templating
from cible.nurture.mailing.events import SOURCE
from cible.nurture.mailing.mailboxes import configured_mailboxes
from cible.nurture.mailing.models import (
    Bounce,
    EmailTemplate,
    MailboxReading,
    MessageStatus,
    OutboundMessage,
)
from cible.people.models import Contact

SEARCH_LIMIT = 10


def template_list(*, viewer: Any) -> QuerySet[EmailTemplate]:
    """Templates with how many messages each sent; everyone with a role reads them."""
    if access.role_of(viewer) is None:
        return EmailTemplate.objects.none()
    return (
        EmailTemplate.objects.select_related("created_by")
        .annotate(sent=Count("messages", filter=Q(messages__status=MessageStatus.SENT)))
        .order_by("name")
    )


def template_get(*, viewer: Any, pk: Any) -> EmailTemplate:
    found = template_list(viewer=viewer).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise NotFound(_("No such email template."))
    return found


def message_list(
    *, viewer: Any, status: str = "", template: Any = None
) -> QuerySet[OutboundMessage]:
    """The outbox, newest first, narrowed to the messages of contacts the viewer may see."""
    qs = access.visible(viewer, OutboundMessage.objects.all())
    if status in MessageStatus.values:
        qs = qs.filter(status=status)
    if template not in (None, "") and str(template).isdigit():
        qs = qs.filter(template_id=int(template))
    return qs.select_related("contact", "template").order_by("-queued_at", "-id")


def status_counts(*, viewer: Any) -> dict[str, int]:
    rows = (
        access.visible(viewer, OutboundMessage.objects.all())
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


def message_get(*, viewer: Any, pk: Any) -> OutboundMessage:
    found = message_list(viewer=viewer).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise NotFound(_("No such email message."))
    return found


@dataclass(frozen=True)
class MessageEvent:
    when: Any
    label: str
    detail: str


def message_events(message: OutboundMessage) -> list[MessageEvent]:
    """What happened to a message, in order: queued, sent, opened, clicked, bounced."""
    events = [MessageEvent(message.queued_at, _("Queued"), message.origin)]
    interactions = Interaction.objects.filter(
        source=SOURCE, event_id__startswith=f"{message.pk}:"
    ).order_by("occurred_at", "id")
    for interaction in interactions:
        detail = str((interaction.properties or {}).get("url", ""))
        events.append(MessageEvent(interaction.occurred_at, interaction.get_kind_display(), detail))
    for bounce in Bounce.objects.filter(message=message).order_by("received_at"):
        label = _("Bounce: %(kind)s") % {"kind": bounce.get_kind_display()}
        events.append(
            MessageEvent(bounce.received_at, label, f"{bounce.status} {bounce.diagnostic}")
        )
    if message.status == MessageStatus.FAILED:
        events.append(MessageEvent(None, _("Failed"), message.last_error))
    return sorted(events, key=lambda e: (e.when is None, e.when or 0))


def contact_search(*, viewer: Any, q: str) -> list[Contact]:
    """Contacts to preview a template with: by name or email, those the viewer may see."""
    text = q.strip()
    if len(text) < 2:
        return []
    qs = access.visible(viewer, Contact.objects.filter(anonymised_at__isnull=True))
    if "@" in text:
        qs = qs.filter(email__istartswith=text)
    else:
        qs = qs.filter(name_key__contains=search_key(text))
    return list(qs.select_related("organisation").order_by("name_key", "id")[:SEARCH_LIMIT])


def contact_get(*, viewer: Any, pk: Any) -> Contact:
    if not str(pk).isdigit():
        raise NotFound(_("No such contact."))
    found = access.visible(viewer, Contact.objects.filter(pk=pk)).first()
    if found is None:
        raise NotFound(_("No such contact."))
    return found


@dataclass(frozen=True)
class Preview:
    language: str
    subject: str
    text: str
    html: str
    missing: list[str]
    errors: list[FieldError]


def preview(
    *, viewer: Any, values: Mapping[str, str], contact: Contact, language: str = ""
) -> Preview:
    """The email as `contact` would receive it, from the editor's current (unsaved) text.

    `language` forces one tab; by default the contact's language decides, as at send time."""
    if not access.can(viewer, "view", contact):
        raise PermissionDenied(_("You may not see this contact."))
    draft = EmailTemplate(**{k: values.get(k, "") or "" for k in merge.TEXT_FIELDS})
    recipient = merge.recipients([contact.pk])[contact.pk]
    chosen = (
        language if language in merge.LANGUAGES else merge.language_for(draft, recipient.language)
    )
    errors = []
    for part in ("subject", "body"):
        errors.extend(
            templating.check(values.get(f"{part}_{chosen}", "") or "", field=f"{part}_{chosen}")
        )
    if errors:
        return Preview(chosen, "", "", "", [], errors)
    try:
        compiled = merge.compile_draft(draft, chosen)
    except TemplateSyntaxError as error:  # pragma: no cover - check() found it first
        return Preview(chosen, "", "", "", [], [FieldError("", str(error))])
    rendered = templating.render(
        compiled, merge.context_for(recipient, chosen, _("(unsubscribe link)"))
    )
    return Preview(chosen, rendered.subject, rendered.text, rendered.html, rendered.missing, [])


def contact_messages(*, viewer: Any, contact: Contact) -> QuerySet[OutboundMessage]:
    """The messages queued or sent to `contact`, as the viewer may see them."""
    return message_list(viewer=viewer).filter(contact=contact)


@dataclass(frozen=True)
class MailboxStatus:
    """A configured bounce mailbox and its latest readings, newest first."""

    source: str
    where: str
    readings: list[MailboxReading]

    @property
    def failing(self) -> bool:
        return bool(self.readings) and bool(self.readings[0].error)


def mailbox_statuses(*, shown: int = 5) -> list[MailboxStatus]:
    """Each bounce mailbox the settings name, with its last `shown` readings."""
    return [
        MailboxStatus(
            source,
            where,
            list(MailboxReading.objects.filter(source=source, mailbox=where[:300])[:shown]),
        )
        for source, where, _messages in configured_mailboxes()
    ]

"""`cible mail_bounces`: read the bounce mailboxes now (the worker does it every ten minutes).

`--maildir PATH` reads that Maildir instead of `MAIL_BOUNCE_MAILDIR`, e.g. to replay a folder.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.nurture.mailing import services
from cible.nurture.mailing.mailboxes import MailboxUnreadable


class Command(BaseCommand):
    help = "Read delivery status notifications from the bounce mailboxes (Maildir, IMAP)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--maildir", default="", help="A Maildir folder to read instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["maildir"]:
            settings.MAIL_BOUNCE_MAILDIR = options["maildir"]
            settings.MAIL_BOUNCE_IMAP_HOST = ""
        if not getattr(settings, "MAIL_BOUNCE_MAILDIR", "") and not getattr(
            settings, "MAIL_BOUNCE_IMAP_HOST", ""
        ):
            raise CommandError(
                "No bounce mailbox configured: set CIBLE_MAIL_BOUNCE_MAILDIR or "
                "CIBLE_MAIL_BOUNCE_IMAP_HOST (or pass --maildir)."
            )
        try:
            report = services.bounces_read_mailboxes()
        except MailboxUnreadable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Read {report.read} messages: {report.hard} hard bounces, {report.soft} soft, "
            f"{report.replies} replies, {report.ignored} ignored (not a bounce report nor a "
            "reply, or already recorded)."
        )

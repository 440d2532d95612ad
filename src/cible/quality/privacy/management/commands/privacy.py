"""`cible privacy`: subject-access export, erasure and retention runs from the command line.

    cible privacy export 123 --output contact-123.zip
    cible privacy erase 123 --reason "Request by email, ticket 4567"
    cible privacy retention --dry-run            # every active rule: how many, which
    cible privacy retention --rule 2             # run one rule now

Without --user the command acts as the system (whoever runs it holds the database already);
with --user it acts as that user, with their rights, and the journal names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.people.models import Contact
from cible.quality.privacy import erasure, export, retention
from cible.quality.privacy.models import RetentionRule


class Command(BaseCommand):
    help = (
        "GDPR work: export everything held about a contact, erase (anonymise) a contact, "
        "run retention rules."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="act as this user (default: the system)")
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        out = commands.add_parser("export", help="write the subject-access zip of a contact")
        out.add_argument("contact", type=int, help="the contact's id")
        out.add_argument("--output", help="file to write (default: the export's own name)")
        erase = commands.add_parser("erase", help="anonymise a contact (cannot be undone)")
        erase.add_argument("contact", type=int, help="the contact's id")
        erase.add_argument("--reason", required=True, help="why (kept in the journal; no names)")
        keep = commands.add_parser("retention", help="run retention rules (all active ones)")
        keep.add_argument("--rule", type=int, help="only this rule (active or not)")
        keep.add_argument("--dry-run", action="store_true", help="count and list, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options.get("user"))
        try:
            getattr(self, f"_{options['action']}")(actor, options)
        except CibleError as error:
            raise CommandError(str(error)) from None

    def _actor(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return user

    def _contact(self, pk: int) -> Contact:
        contact = Contact.objects.filter(pk=pk).first()
        if contact is None:
            raise CommandError(f"No contact #{pk}.")
        return contact

    def _export(self, actor: Any, options: dict[str, Any]) -> None:
        result = export.contact_export(
            contact=self._contact(options["contact"]), actor=actor, channel=Channel.CLI
        )
        target = Path(options.get("output") or result.filename)
        target.write_bytes(result.content)
        files = ", ".join(f"{kind} ({rows})" for kind, rows in result.files.items())
        self.stdout.write(f"Wrote {target} ({len(result.content):,} bytes): {files}.")

    def _erase(self, actor: Any, options: dict[str, Any]) -> None:
        done = erasure.contact_erase(
            contact=self._contact(options["contact"]),
            actor=actor,
            channel=Channel.CLI,
            reason=options["reason"],
        )
        details = done.details
        self.stdout.write(
            f"Contact #{done.contact_ref} anonymised (request #{done.pk}): "
            f"{details.get('audit_entries', 0)} audit entries and "
            f"{details.get('consent_events', 0)} consent proofs cleaned."
        )

    def _retention(self, actor: Any, options: dict[str, Any]) -> None:
        if options.get("rule"):
            rules = list(RetentionRule.objects.filter(pk=options["rule"]))
            if not rules:
                raise CommandError(f"No retention rule #{options['rule']}.")
        else:
            rules = list(RetentionRule.objects.filter(is_active=True))
            if not rules:
                self.stdout.write("No active retention rule.")
                return
        for rule in rules:
            if options["dry_run"]:
                done = retention.retention_dry_run(rule=rule, actor=actor, channel=Channel.CLI)
                sample = ", ".join(f"#{pk}" for pk in done.details.get("sample_ids", []))
                self.stdout.write(
                    f"{rule.name}: {done.matched:,} contacts would be anonymised "
                    f"(no activity since {done.details['cutoff'][:10]}; fingerprint "
                    f"{done.details['digest']}){': ' + sample if sample else ''}."
                )
            else:
                request = retention.retention_run(rule=rule, actor=actor, channel=Channel.CLI)
                self.stdout.write(
                    f"{rule.name}: run #{request.pk} {request.get_status_display().lower()}, "
                    f"{request.processed:,} of {request.matched:,} contacts anonymised."
                )

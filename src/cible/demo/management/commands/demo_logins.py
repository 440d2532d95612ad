"""`cible demo_logins`: the demo users, their roles and the shared demo password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from cible.demo.generator import DEMO_PASSWORD
from cible.demo.people import DEMO_USERS


class Command(BaseCommand):
    help = (
        f"List the demo users created by `cible demo`: role, username, password. Every demo "
        f"user has the password {DEMO_PASSWORD!r} until someone changes it; change them (or "
        f"deactivate the users) before a demo database is reachable by anyone else."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        order = {spec[0]: index for index, spec in enumerate(DEMO_USERS)}
        users = sorted(
            User.objects.filter(username__in=order)
            .select_related("profile")
            .prefetch_related("profile__teams", "managed_teams"),
            key=lambda u: order[u.username],
        )
        if not users:
            self.stdout.write("No demo user in this database: run `cible demo` first.")
            return
        rows = [("role", "username", "password", "name", "teams")]
        for user in users:
            profile = getattr(user, "profile", None)
            role = profile.get_role_display() if profile else ""
            names = [t.name for t in profile.teams.all()] if profile else []
            names += [f"manages {t.name}" for t in user.managed_teams.all()]
            teams = ", ".join(names)
            rows.append((str(role), user.username, DEMO_PASSWORD, user.get_full_name(), teams))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for number, row in enumerate(rows):
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
            if number == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(
            f"\nAll demo users share the password {DEMO_PASSWORD!r} (unless changed)."
        )

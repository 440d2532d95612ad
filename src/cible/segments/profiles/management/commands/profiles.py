"""`cible profiles`: ideal customer profiles from the command line.

cible profiles list                    the profiles, their criteria and when they were scored
cible profiles score [CODE ...]        recompute the fit scores of these profiles (default: all
                                       active ones), showing progress and how long it took
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.segments import rules
from cible.segments.profiles.compute import fit_scores_compute
from cible.segments.profiles.models import IdealCustomerProfile


class Command(BaseCommand):
    help = "Ideal customer profiles: list, score."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="the profiles, their criteria and when they were scored")
        score = sub.add_parser("score", help="recompute fit scores (default: every active profile)")
        score.add_argument("codes", nargs="*", metavar="CODE", help="profile codes")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except CibleError as error:
            raise CommandError(str(error)) from None

    def do_list(self, options: dict[str, Any]) -> None:
        profiles = IdealCustomerProfile.objects.prefetch_related("criteria")
        if not profiles:
            self.say("No ideal customer profile yet.")
        for profile in profiles:
            scored = f"{profile.scored_at:%Y-%m-%d %H:%M}" if profile.scored_at else "not scored"
            state = "" if profile.is_active else ", inactive"
            self.say(f"{profile.code}: {profile.name} ({profile.purpose}{state}; {scored})")
            total = sum(c.weight for c in profile.criteria.all())
            for criterion in profile.criteria.all():
                try:
                    text = rules.describe(rules.parse(criterion.rule, level="organisation"))
                except rules.RuleInvalid as invalid:
                    text = f"INVALID: {invalid}"
                share = 100 * criterion.weight / total if total else 0
                self.say(f"  {criterion.weight:>3} ({share:4.1f} pts)  {criterion.label}: {text}")

    def do_score(self, options: dict[str, Any]) -> None:
        codes: list[str] = options["codes"]
        if codes:
            profiles = list(IdealCustomerProfile.objects.filter(code__in=codes))
            missing = sorted(set(codes) - {p.code for p in profiles})
            if missing:
                raise CommandError(f"No profile with the code {', '.join(missing)}")
        else:
            profiles = list(IdealCustomerProfile.objects.filter(is_active=True))
            if not profiles:
                self.say("No active profile to score.")
        for profile in profiles:
            fit_scores_compute(profile=profile, channel=Channel.CLI, progress=self.say)
